import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const fileStatuses = ["processing", "completed", "failed"] as const;
export type FileStatus = (typeof fileStatuses)[number];
export const fileSources = ["upload", "ingest"] as const;
export const fileFormats = ["csv", "xlsx"] as const;
export type FileFormat = (typeof fileFormats)[number];

/** A batch of raw transactions kept in R2: an uploaded CSV/XLSX or an API ingest batch turned into CSV. */
export const files = sqliteTable(
  "files",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    organizationId: text("organization_id").notNull(),
    source: text("source", { enum: fileSources }).notNull(),
    format: text("format", { enum: fileFormats }).notNull(),
    filename: text("filename").notNull(),
    r2Key: text("r2_key").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** data rows in the file, known once it has been read */
    rowCount: integer("row_count"),
    rowsAccepted: integer("rows_accepted"),
    rowsRejected: integer("rows_rejected"),
    status: text("status", { enum: fileStatuses }).notNull(),
    /** the caller's idempotency key for API ingest; a failed file gives it up, so the batch can be sent again */
    batchId: text("batch_id"),
    /** hex SHA-256 of an API batch's canonical payload (records and mapping), to tell a repeat from a different batch under the same id */
    payloadSha256: text("payload_sha256"),
    /** JSON: explicit column mapping and date format */
    mapping: text("mapping", { mode: "json" }),
    errorMessage: text("error_message"),
    /** hex SHA-256 of an upload's bytes: the same content twice in a project is refused; null when forced */
    contentSha256: text("content_sha256"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("files_project_idx").on(t.projectId, t.createdAt),
    index("files_org_status_idx").on(t.organizationId, t.status),
    uniqueIndex("files_project_batch_unique").on(t.projectId, t.batchId).where(sql`status <> 'failed' AND batch_id IS NOT NULL`),
    uniqueIndex("files_project_content_unique").on(t.projectId, t.contentSha256).where(sql`status <> 'failed' AND content_sha256 IS NOT NULL`),
  ],
);
