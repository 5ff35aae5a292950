import { auth } from "../router";
import { SIZE_CAP_BYTES } from "../../services/sql-query";
import { z } from "@hono/zod-openapi";
import { Timestamp } from "../schemas";

export const ScopeQuery = z.object({
  project_id: z.string().min(1).max(64).optional().openapi({ description: "Narrow a session's organization-wide view to one project" }),
});

export const AnalyticsOverview = z
  .object({
    segment_count: z.number().int(),
    total_members: z.number().int().openapi({ description: "Customers who belong to at least one segment" }),
    events_30d: z.number().int().openapi({ description: "Transaction rows ingested in the last 30 days" }),
    ai_credits_used: z.number().int(),
    ai_credits_limit: z.number().int().openapi({ description: "-1 means unlimited" }),
  })
  .openapi("AnalyticsOverview");

export const SegmentTrend = z
  .array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      member_count: z.number().int(),
      last_computed_at: Timestamp.nullable(),
      trend: z.array(z.object({ day: z.string(), count: z.number().int() })),
    }),
  )
  .openapi("SegmentTrends");

export const Overlap = z
  .array(
    z.object({
      seg_a_id: z.string(),
      seg_a_name: z.string(),
      seg_b_id: z.string(),
      seg_b_name: z.string(),
      overlap: z.number().int(),
      overlap_pct: z.number(),
    }),
  )
  .openapi("SegmentOverlap");

export const Activations = z
  .array(
    z.object({
      id: z.string(),
      segment_id: z.string(),
      segment_name: z.string().nullable().openapi({ description: "null when the segment no longer exists (see status_reason)" }),
      connector_type: z.string(),
      status: z.string(),
      status_reason: z.string().nullable().openapi({ description: "Why the system paused the automation, e.g. a model run dropped its segment" }),
      last_synced_at: Timestamp.nullable(),
      last_error: z.string(),
      member_count: z.number().int(),
      success_rate: z.number().nullable(),
      sync_logs: z.array(z.object({ status: z.string(), user_count: z.number().int(), error_message: z.string(), synced_at: Timestamp })),
    }),
  )
  .openapi("ActivationAnalytics");

export const Copilot = z
  .object({
    total: z.number().int(),
    daily: z.array(z.object({ day: z.string(), success: z.number().int(), error: z.number().int() })),
  })
  .openapi("CopilotAnalytics");

const Used = z.object({ used: z.number(), limit: z.number().openapi({ description: "-1 means unlimited" }) });

export const PlanUsage = z
  .object({
    plan_name: z.string(),
    plan_tier: z.string(),
    period_start: z.string(),
    period_end: z.string(),
    events: Used.openapi({ description: "Rows of completed files (the plan's row quota)" }),
    users: Used.openapi({ description: "Customer profiles" }),
    segments: Used,
    ai_credits: Used.openapi({ description: "GenAI operations this month" }),
    model_runs: Used,
    storage_gb: Used,
    team_seats: Used,
  })
  .openapi("PlanUsage");

export const QueryBody = z
  .object({
    query: z.string().min(1).max(20_000).openapi({ example: "SELECT segment_label, COUNT(*) AS customers, SUM(monetary_cents) AS revenue_cents FROM dim_customer GROUP BY 1 ORDER BY 3 DESC" }),
    project_id: z.string().min(1).max(64).optional().openapi({ description: "Narrow a session's organization-wide view to one project (or ?project_id=; both must agree)" }),
  })
  .strict()
  .openapi("AnalyticsQueryRequest");

export const QueryResult = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.enum(["int64", "float64", "string", "bytes", "null"]) })),
    rows: z.array(z.array(z.unknown())).openapi({ description: "In column order; int64 values are strings" }),
    meta: z.object({
      rows: z.number().int(),
      elapsed_ms: z.number().openapi({ description: "Running the query in the warehouse" }),
      catch_up_ms: z.number().openapi({ description: "Bringing the warehouse up to date with D1 first" }),
      truncated: z.boolean(),
      truncated_by: z.enum(["rows", "size"]).nullable().openapi({ description: `rows: more than the row cap; size: more than ${SIZE_CAP_BYTES / 1_000_000} MB of values` }),
      tables: z.array(z.string()),
    }),
  })
  .openapi("AnalyticsQueryResult");

export const SqlSchema = z
  .object({
    dialect: z.literal("sqlite"),
    row_limit: z.number().int(),
    tables: z.array(
      z.object({
        name: z.string(),
        description: z.string(),
        columns: z.array(z.object({ name: z.string(), type: z.string(), description: z.string() })),
        keys: z.array(z.array(z.string())).openapi({ description: "Column sets naming at most one row (per project): a JOIN must equate one of them on one side" }),
      }),
    ),
  })
  .openapi("AnalyticsSchema");

export const SignalsMetadata = z
  .object({
    data: z.array(
      z.object({
        project_id: z.string(),
        path: z.string().openapi({ example: "$.country", description: "Use with json_extract(extra_features, path)" }),
        types: z.array(z.object({ type: z.string(), customers: z.number().int() })),
      }),
    ),
  })
  .openapi("SignalsMetadata");

/** What every scoped analytics route shares: its tag, its credentials and the `project_id` query. */
export const scopedRoute = { tags: ["Analytics"], ...auth.sessionOrApiKey(), request: { query: ScopeQuery } };
export const scopeDescription =
  "Scope: an API key sees its project; a session sees its active organization, or one project of it with `project_id`.";
