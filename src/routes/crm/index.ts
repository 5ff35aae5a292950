import { createRoute, z } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse, invalidField } from "../../errors";
import { database } from "../../db/client";
import type { Locale } from "../../i18n";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/analytics-scope";
import { activity, lifecycleStages, userCohorts, userLifecycles, type CrmCondition } from "../../services/crm-analytics";
import { conditionSchema } from "../../services/customer-filters";
import { dayNumber, isoDay } from "../../crm/periods";
import { parseJsonParam } from "../json-param";
import { auth, createRouter } from "../router";
import { jsonResponse } from "../schemas";

/** A real day written YYYY-MM-DD (not 2025-02-30), from 1900 on as ingest accepts. */
function isCalendarDay(v: unknown): boolean {
  if (typeof v !== "string" || !/^(19|[2-9]\d)\d{2}-\d{2}-\d{2}$/.test(v)) return false;
  const day = dayNumber(v);
  return Number.isFinite(day) && isoDay(day) === v;
}

/** The `filters` query parameter: a JSON array of conditions over the endpoint's fields. */
function parseFilters(text: string | undefined, fields: readonly string[], locale: Locale): CrmCondition[] {
  const schema = z.array(conditionSchema(z.enum(fields as [string, ...string[]]), "CrmCondition")).max(20);
  const conditions = parseJsonParam(text, schema, "filters", locale) ?? [];
  for (const [i, c] of conditions.entries()) {
    for (const v of [("value" in c ? c.value : undefined), ("min" in c ? c.min : undefined), ("max" in c ? c.max : undefined), ...("values" in c ? c.values : [])]) {
      if (v !== undefined && (c.field === "activity_on" || c.field === "cohort_on") && !isCalendarDay(v)) {
        throw invalidField(`filters.${i}`, "invalid_date", `${c.field} compares with calendar dates, YYYY-MM-DD`);
      }
      if (v !== undefined && c.field === "lifecycle_status" && c.op !== "contains" && !(lifecycleStages as readonly unknown[]).includes(v)) {
        throw invalidField(`filters.${i}`, "invalid_value", `lifecycle_status is one of ${lifecycleStages.join(", ")}`);
      }
    }
  }
  return conditions as CrmCondition[];
}

const common = z.object({
  project_id: z.string().min(1).max(64).optional().openapi({ description: "Narrow a session's organization-wide view to one project" }),
  filters: z.string().max(10_000).optional().openapi({ description: 'JSON conditions, e.g. `[{"field":"activity_on","op":"range","min":"2025-01-01","max":"2025-06-30"}]`' }),
  order_by: z.string().max(200).optional().openapi({ description: "Comma separated columns, `-` for descending, e.g. `-revenue_cents,activity_on`" }),
});

const tooLarge = {
  422: errorResponse("A project in scope has more purchase lines than CRM analytics hold (`project_too_large`), or the answer would be too large (`result_too_large`)"),
};

const envelope = <T extends z.ZodType>(item: T, name: string) => z.object({ status: z.literal("success"), data: z.array(item) }).openapi(name);

const ActivityRow = z
  .object({
    organization_id: z.string(),
    project_id: z.string().nullable(),
    activity_on: z.string().nullable().openapi({ description: "First day of the period; null for overall" }),
    active_customers: z.number().int(),
    first_time_customers: z.number().int().openapi({ description: "Customers whose first purchase ever falls in the period" }),
    orders: z.number().int(),
    revenue_cents: z.number().int(),
    average_order_value_cents: z.number().int(),
  })
  .catchall(z.unknown())
  .openapi({ description: "The group_by key appears as a property holding the dimension value" });

const activityRoute = createRoute({
  method: "get",
  path: "/activity",
  operationId: "getCrmActivity",
  tags: ["CRM analytics"],
  summary: "Activity per customer dimension and period",
  description:
    "Purchases (returns excluded) grouped by `grouping_interval` (weeks start on Monday) and, with `group_by`, by an `extra_features` key of the transactions (e.g. country). " +
    "Filters on `activity_on` (the order day) and `dimension`.",
  ...auth.sessionOrApiKey(),
  request: {
    query: common.extend({
      grouping_interval: z.enum(["day", "week", "month", "overall"]).default("month"),
      group_by: z.string().min(1).max(64).optional().openapi({ description: "An extra_features key, e.g. country or category" }),
    }),
  },
  responses: { 200: jsonResponse(envelope(ActivityRow, "CrmActivity"), "Activity"), ...authErrorResponses, ...tooLarge },
});

const cohortRoute = createRoute({
  method: "get",
  path: "/user_cohorts",
  operationId: "getCrmUserCohorts",
  tags: ["CRM analytics"],
  summary: "Retention cohorts",
  description:
    "`new`: a customer's cohort is the period of their first purchase ever. `active`: a customer belongs to the cohort of every period they purchased in. " +
    "Each row counts the cohort's customers who purchased in `activity_on`; the row with activity_on = cohort_on (period 0) is the cohort's size. Filters on `cohort_on` and `activity_on`.",
  ...auth.sessionOrApiKey(),
  request: {
    query: common.extend({
      user_type: z.enum(["new", "active"]).default("new"),
      grouping_interval: z.enum(["week", "month"]).default("month"),
    }),
  },
  responses: {
    200: jsonResponse(
      envelope(z.object({ organization_id: z.string(), project_id: z.string().nullable(), user_type: z.string(), cohort_on: z.string(), activity_on: z.string(), user_count: z.number().int() }), "CrmCohorts"),
      "Cohort cells",
    ),
    ...authErrorResponses,
    ...tooLarge,
  },
});

const lifecycleRoute = createRoute({
  method: "get",
  path: "/user_lifecycles",
  operationId: "getCrmUserLifecycles",
  tags: ["CRM analytics"],
  summary: "Customers per lifecycle stage and period",
  description:
    "Each customer is counted once per period, in their stage at the period's end. With the last purchase on or before the period's last day: more than `lapsed_after_days` (default 90) ago → lapsed; " +
    "more than `dormant_after_days` (default 30) → dormant; otherwise new (first purchase ever in the period), reactivated (first purchase in the period more than dormant_after_days after the previous one) or active. " +
    "Customers who bought before the range are never new in it. Conditions on `activity_on` select periods by their first day, at most 520; without a lower bound the periods are the 12 up to the latest purchase (or the upper bound).",
  ...auth.sessionOrApiKey(),
  request: {
    query: common.extend({
      grouping_interval: z.enum(["week", "month"]).default("month"),
      dormant_after_days: z.coerce.number().int().min(1).max(3650).default(30),
      lapsed_after_days: z.coerce.number().int().min(1).max(3650).default(90),
    }),
  },
  responses: {
    200: jsonResponse(
      envelope(z.object({ organization_id: z.string(), project_id: z.string().nullable(), activity_on: z.string(), lifecycle_status: z.enum(lifecycleStages), user_count: z.number().int() }), "CrmLifecycles"),
      "Stage counts",
    ),
    ...authErrorResponses,
    ...tooLarge,
  },
});

/** Mounted at /api/crm/analytics. */
export function crmRoutes() {
  const app = createRouter();
  app.openapi(activityRoute, async (c) => {
    const q = c.req.valid("query");
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["activity_on", "dimension"], c.get("locale"));
    return c.json({ status: "success" as const, data: await activity(c.env, scope, { interval: q.grouping_interval, groupBy: q.group_by, conditions, orderBy: q.order_by }) }, 200);
  });
  app.openapi(cohortRoute, async (c) => {
    const q = c.req.valid("query");
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["cohort_on", "activity_on"], c.get("locale"));
    return c.json({ status: "success" as const, data: await userCohorts(c.env, scope, { interval: q.grouping_interval, userType: q.user_type, conditions, orderBy: q.order_by }) }, 200);
  });
  app.openapi(lifecycleRoute, async (c) => {
    const q = c.req.valid("query");
    if (q.lapsed_after_days <= q.dormant_after_days) {
      throw invalidField("lapsed_after_days", "too_small", "lapsed_after_days must exceed dormant_after_days");
    }
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["activity_on", "lifecycle_status"], c.get("locale"));
    const data = await userLifecycles(c.env, scope, {
      interval: q.grouping_interval,
      dormantAfterDays: q.dormant_after_days,
      lapsedAfterDays: q.lapsed_after_days,
      conditions,
      orderBy: q.order_by,
    });
    return c.json({ status: "success" as const, data }, 200);
  });
  return app;
}
