import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, index, primaryKey, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export type AutomationTrigger = { type: "manual" } | { type: "segment_change" } | { type: "schedule"; cron: string };
export type AutomationAddress = { email?: string; phone?: string };
export type AutomationMessage = { subject?: string; body: string };
export const automationStatuses = ["active", "paused"] as const;

/** A segment bound to a connector: who is sent, how they are addressed, and when it runs. */
export const automations = sqliteTable(
  "automations",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    organizationId: text("organization_id").notNull(),
    name: text("name").notNull(),
    segmentId: text("segment_id").notNull(),
    connectorId: text("connector_id").notNull(),
    trigger: text("trigger", { mode: "json" }).$type<AutomationTrigger>().notNull(),
    /** share of members (0–50%) held out as control, fixed per customer by a hash */
    holdoutPct: integer("holdout_pct").notNull().default(10),
    /** which `extra_features` keys hold the email address and phone number */
    address: text("address", { mode: "json" }).$type<AutomationAddress>().notNull(),
    message: text("message", { mode: "json" }).$type<AutomationMessage>(),
    status: text("status", { enum: automationStatuses }).notNull(),
    /** why the system paused it (its segment, or the cluster its hybrid segment narrows, was dropped by a model run); null otherwise */
    statusReason: text("status_reason"),
    /** days after a run in which purchases count as its outcome (uplift) */
    outcomeWindowDays: integer("outcome_window_days").notNull().default(30),
    /** the minute a schedule trigger last fired, so a minute never runs twice */
    lastScheduledAt: integer("last_scheduled_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("automations_project_idx").on(t.projectId, t.createdAt),
    index("automations_org_status_idx").on(t.organizationId, t.status),
    index("automations_segment_idx").on(t.segmentId),
    index("automations_connector_idx").on(t.connectorId),
  ],
);

export const runTriggers = ["manual", "segment_change", "schedule"] as const;
export const runStatuses = ["queued", "processing", "success", "partial", "failed"] as const;
export type RunStatus = (typeof runStatuses)[number];

/** One run of an automation; once finished (success, partial or failed) it is the sync log. */
export const automationRuns = sqliteTable(
  "automation_runs",
  {
    id: text("id").primaryKey(),
    automationId: text("automation_id")
      .notNull()
      .references(() => automations.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull(),
    organizationId: text("organization_id").notNull(),
    jobId: text("job_id").notNull(),
    trigger: text("trigger", { enum: runTriggers }).notNull(),
    status: text("status", { enum: runStatuses }).notNull(),
    memberCount: integer("member_count").notNull().default(0),
    treatedCount: integer("treated_count").notNull().default(0),
    controlCount: integer("control_count").notNull().default(0),
    skippedCount: integer("skipped_count").notNull().default(0),
    chunkCount: integer("chunk_count").notNull().default(0),
    deliveredCount: integer("delivered_count").notNull().default(0),
    /** per-member channels: members whose send was attempted but whose outcome is unknown (never sent again) */
    deliveryUnknownCount: integer("delivery_unknown_count").notNull().default(0),
    errorMessage: text("error_message"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("automation_runs_automation_idx").on(t.automationId, t.createdAt),
    index("automation_runs_project_idx").on(t.projectId, t.finishedAt),
    // At most one run of an automation at a time.
    uniqueIndex("automation_runs_one_active").on(t.automationId).where(sql`status IN ('queued', 'processing')`),
  ],
);

/** treated: to deliver (with its chunk); in_sync: treated, delivered by an earlier sync; removed: left the segment since */
export const memberGroups = ["treated", "control", "skipped", "in_sync", "removed"] as const;
export type MemberGroup = (typeof memberGroups)[number];

/** Who a run covered and in which group; treated members carry the chunk that delivers them. */
export const automationRunMembers = sqliteTable(
  "automation_run_members",
  {
    runId: text("run_id")
      .notNull()
      .references(() => automationRuns.id, { onDelete: "cascade" }),
    customerId: text("customer_id").notNull(),
    group: text("grp", { enum: memberGroups }).notNull(),
    chunk: integer("chunk"),
    /**
     * Per-member channels (email, SMS): 0 not sent, 1 sent, 2 attempted (claimed just before its request;
     * once the chunk is over, a 2 is a member whose delivery is unknown, never sent again). List and
     * webhook channels deliver whole chunks and leave it 0.
     */
    delivered: integer("delivered").notNull().default(0),
    /** the address the channel needs (email or phone) as sent, carried forward so a removal uses it */
    address: text("address"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.customerId] }), index("automation_run_members_chunk_idx").on(t.runId, t.chunk)],
);

/** sending: claimed by a consumer until `claimed_at` + the lease, so two deliveries never overlap */
export const chunkStatuses = ["pending", "sending", "delivered", "failed"] as const;

/** A run's unit of delivery: one queue message, delivered once in effect. */
export const automationChunks = sqliteTable(
  "automation_chunks",
  {
    runId: text("run_id")
      .notNull()
      .references(() => automationRuns.id, { onDelete: "cascade" }),
    chunk: integer("chunk").notNull(),
    status: text("status", { enum: chunkStatuses }).notNull(),
    memberCount: integer("member_count").notNull(),
    attempts: integer("attempts").notNull().default(0),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [primaryKey({ columns: [t.runId, t.chunk] })],
);
