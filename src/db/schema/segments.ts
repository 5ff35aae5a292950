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
    /** when a model run dropped the cluster a hybrid segment narrows (it then has no members); null while the cluster exists */
    clusterMissingAt: integer("cluster_missing_at", { mode: "timestamp_ms" }),
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

/** Each segment's size per day (UTC), kept for trends long after member-level snapshots are pruned. */
export const segmentDailySizes = sqliteTable(
  "segment_daily_sizes",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    segmentId: text("segment_id").notNull(),
    day: text("day").notNull(),
    size: integer("size").notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.day] }), index("segment_sizes_project_day_idx").on(t.projectId, t.day)],
);

/** Shared members of each pair of segments on a snapshot day, computed when the snapshot is written. */
export const segmentOverlaps = sqliteTable(
  "segment_overlaps",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    day: text("day").notNull(),
    segmentAId: text("segment_a_id").notNull(),
    segmentBId: text("segment_b_id").notNull(),
    overlap: integer("overlap").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.day, t.segmentAId, t.segmentBId] })],
);
