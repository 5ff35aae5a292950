import { z } from "@hono/zod-openapi";
import { errorResponse, invalidField } from "../../errors";
import type { Locale } from "../../i18n";
import { lifecycleStages, type CrmCondition } from "../../services/crm-analytics";
import { conditionSchema } from "../../services/customer-filters";
import { dayNumber, isoDay } from "../../crm/periods";
import { parseJsonParam } from "../json-param";

/** A real day written YYYY-MM-DD (not 2025-02-30), from 1900 on as ingest accepts. */
function isCalendarDay(v: unknown): boolean {
  if (typeof v !== "string" || !/^(19|[2-9]\d)\d{2}-\d{2}-\d{2}$/.test(v)) return false;
  const day = dayNumber(v);
  return Number.isFinite(day) && isoDay(day) === v;
}

/** The `filters` query parameter: a JSON array of conditions over the endpoint's fields. */
export function parseFilters(text: string | undefined, fields: readonly string[], locale: Locale): CrmCondition[] {
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

export const CrmQuery = z.object({
  project_id: z.string().min(1).max(64).optional().openapi({ description: "Narrow a session's organization-wide view to one project" }),
  filters: z.string().max(10_000).optional().openapi({ description: 'JSON conditions, e.g. `[{"field":"activity_on","op":"range","min":"2025-01-01","max":"2025-06-30"}]`' }),
  order_by: z.string().max(200).optional().openapi({ description: "Comma separated columns, `-` for descending, e.g. `-revenue_cents,activity_on`" }),
});

export const tooLarge = {
  422: errorResponse("A project in scope has more purchase lines than CRM analytics hold (`project_too_large`), or the answer would be too large (`result_too_large`)"),
};

export const envelope = <T extends z.ZodType>(item: T, name: string) => z.object({ status: z.literal("success"), data: z.array(item) }).openapi(name);

export const ActivityRow = z
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


export const ActivityQuery = CrmQuery.extend({
  grouping_interval: z.enum(["day", "week", "month", "overall"]).default("month"),
  group_by: z.string().min(1).max(64).optional().openapi({ description: "An extra_features key, e.g. country or category" }),
});

export const CohortQuery = CrmQuery.extend({
  user_type: z.enum(["new", "active"]).default("new"),
  grouping_interval: z.enum(["week", "month"]).default("month"),
});

export const CohortRow = z.object({ organization_id: z.string(), project_id: z.string().nullable(), user_type: z.string(), cohort_on: z.string(), activity_on: z.string(), user_count: z.number().int() });

export const LifecycleQuery = CrmQuery.extend({
  grouping_interval: z.enum(["week", "month"]).default("month"),
  dormant_after_days: z.coerce.number().int().min(1).max(3650).default(30),
  lapsed_after_days: z.coerce.number().int().min(1).max(3650).default(90),
});

export const LifecycleRow = z.object({ organization_id: z.string(), project_id: z.string().nullable(), activity_on: z.string(), lifecycle_status: z.enum(lifecycleStages), user_count: z.number().int() });
