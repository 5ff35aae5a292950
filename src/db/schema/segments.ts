import { sqliteTable, text, integer, index, primaryKey } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const segmentKinds = ["cluster", "rule", "hybrid"] as const;
export type SegmentKind = (typeof segmentKinds)[number];

/**
 * A group of a project's customers: a K-Means cluster (named from its RFM position, kept across runs),
 * a rule segment (conditions over profile fields), or a hybrid (a cluster AND rules).
 */
export const segments = sqliteTable(
  "segments",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    organizationId: text("organization_id").notNull(),
    kind: text("kind", { enum: segmentKinds }).notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** JSON array of rule conditions (rule and hybrid segments) */
    rules: text("rules", { mode: "json" }),
    /** the cluster a hybrid segment narrows */
    clusterSegmentId: text("cluster_segment_id"),
    size: integer("size").notNull().default(0),
    /** JSON: mean recency_days, frequency, monetary, return_rate of the members (clusters) */
    centroid: text("centroid", { mode: "json" }),
    /** JSON: percentile position {r, f, m} used to name and re-match clusters */
    position: text("position", { mode: "json" }),
    lastComputedAt: integer("last_computed_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("segments_project_idx").on(t.projectId, t.kind)],
);

/** Who was in which segment on a day (UTC): the source of segment trends and overlap. */
export const segmentMembershipSnapshots = sqliteTable(
  "segment_membership_snapshots",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    snapshotDate: text("snapshot_date").notNull(),
    segmentId: text("segment_id").notNull(),
    customerId: text("customer_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.segmentId, t.snapshotDate, t.customerId] }),
    index("snapshots_project_date_customer_idx").on(t.projectId, t.snapshotDate, t.customerId),
  ],
);

/** Per-organization counters for the current billing month (model runs, GenAI operations). */
export const usageCounters = sqliteTable(
  "usage_counters",
  {
    organizationId: text("organization_id").notNull(),
    /** YYYY-MM (UTC) */
    period: text("period").notNull(),
    modelRuns: integer("model_runs").notNull().default(0),
    genaiOps: integer("genai_ops").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.period] })],
);
