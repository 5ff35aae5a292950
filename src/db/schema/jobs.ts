import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const jobTypes = ["ingest", "segmentation", "activation"] as const;
export type JobType = (typeof jobTypes)[number];
export const jobStatuses = ["queued", "processing", "completed", "failed"] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** The persisted record of an asynchronous job; live progress is in its JobProgress Durable Object. */
export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    organizationId: text("organization_id").notNull(),
    type: text("type", { enum: jobTypes }).notNull(),
    status: text("status", { enum: jobStatuses }).notNull(),
    pct: integer("pct").notNull().default(0),
    message: text("message"),
    fileId: text("file_id"),
    result: text("result", { mode: "json" }),
    errorMessage: text("error_message"),
    attempts: integer("attempts").notNull().default(0),
    /** a segmentation run's resumable state (the fitted model and how far it has written); null otherwise */
    checkpoint: text("checkpoint", { mode: "json" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("jobs_project_idx").on(t.projectId, t.createdAt),
    // At most one segmentation waiting per project: a burst of ingests coalesces into it.
    uniqueIndex("jobs_one_queued_segmentation").on(t.projectId).where(sql`type = 'segmentation' AND status = 'queued'`),
  ],
);
