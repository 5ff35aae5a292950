import type { AnalyticsScope } from "./analytics-scope";
import { scopeFilter } from "./analytics-scope";
import { ApiError } from "../errors";

/**
 * CRM analytics (seed 004) over transactions: activity per dimension and period, retention cohorts
 * and lifecycle stages. Periods are calendar days, Monday-based weeks or months of the `order_day`
 * written in the data; each period is named by its first day (YYYY-MM-DD).
 */
export type Interval = "day" | "week" | "month" | "overall";

/** SQL naming the period an order day (YYYY-MM-DD text) falls in. */
export function periodSql(interval: Interval, column: string): string {
  switch (interval) {
    case "day":
      return column;
    case "week":
      // strftime('%w') is 0 on Sunday: step back to the Monday of the week.
      return `date(${column}, '-' || ((CAST(strftime('%w', ${column}) AS INTEGER) + 6) % 7) || ' days')`;
    case "month":
      return `strftime('%Y-%m-01', ${column})`;
    case "overall":
      return "NULL";
  }
}

export type CrmCondition = { field: string; op: string; value?: unknown; values?: unknown[]; min?: unknown; max?: unknown };

/** Compiles CRM filter conditions over named SQL expressions (all values bound). */
export function compileCrmConditions(conditions: readonly CrmCondition[], fields: Record<string, string>) {
  const parts: string[] = [];
  const params: unknown[] = [];
  const ops: Record<string, string> = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" };
  conditions.forEach((c, i) => {
    const column = fields[c.field];
    if (!column) throw new ApiError("validation_error", [{ path: `filters.${i}.field`, code: "invalid_value", message: `unknown field; use ${Object.keys(fields).join(", ")}` }]);
    if (c.op === "range") {
      if (c.min !== undefined) {
        parts.push(`${column} >= ?`);
        params.push(c.min);
      }
      if (c.max !== undefined) {
        parts.push(`${column} <= ?`);
        params.push(c.max);
      }
    } else if (c.op === "in") {
      parts.push(`${column} IN (${c.values!.map(() => "?").join(", ")})`);
      params.push(...c.values!);
    } else if (c.op === "contains") {
      parts.push(`instr(lower(${column}), lower(?)) > 0`);
      params.push(c.value);
    } else {
      parts.push(`${column} ${ops[c.op]} ?`);
      params.push(c.value);
    }
  });
  return { sql: parts.length ? parts.join(" AND ") : "1 = 1", params };
}

/** `+a,-b` into ORDER BY over allow-listed output columns. */
export function compileOrderBy(orderBy: string | undefined, allowed: readonly string[], fallback: string) {
  if (!orderBy) return fallback;
  return orderBy
    .split(",")
    .map((part, i) => {
      const term = part.trim();
      const direction = term.startsWith("-") ? "DESC" : "ASC";
      const name = term.replace(/^[+-]/, "");
      if (!allowed.includes(name)) {
        throw new ApiError("validation_error", [{ path: "order_by", code: "invalid_value", message: `order_by term ${i + 1} "${name}" is not one of ${allowed.join(", ")}` }]);
      }
      return `"${name}" ${direction}`;
    })
    .join(", ");
}

const DIMENSION_KEY = /^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$/;

export async function activity(
  d1: D1Database,
  scope: AnalyticsScope,
  q: { interval: Interval; groupBy?: string; conditions: CrmCondition[]; orderBy?: string },
) {
  if (q.groupBy !== undefined && !DIMENSION_KEY.test(q.groupBy)) {
    throw new ApiError("validation_error", [{ path: "group_by", code: "invalid_value", message: "group_by names an extra_features key (letters, digits, _ . - and spaces)" }]);
  }
  const inScope = scopeFilter(scope, "t.project_id");
  const dimension = q.groupBy !== undefined ? "json_extract(t.extra, ?)" : "NULL";
  const dimensionParams = q.groupBy !== undefined ? [`$."${q.groupBy}"`] : [];
  const filters = compileCrmConditions(q.conditions, { activity_on: "order_day", dimension: "dimension" });
  const period = periodSql(q.interval, "t.order_day");
  const firstPeriod = periodSql(q.interval, "t.first_day");
  // Overall, a first-time customer is one whose first purchase passes the activity_on filters.
  const firstTime =
    q.interval === "overall"
      ? compileCrmConditions(q.conditions.filter((c) => c.field === "activity_on"), { activity_on: "first_day" })
      : { sql: "first_period = activity_on", params: [] as unknown[] };
  const outputs = ["activity_on", "dimension", "active_customers", "first_time_customers", "orders", "revenue_cents", "average_order_value_cents"];
  const order = compileOrderBy(q.orderBy, outputs, `"activity_on" ASC, "dimension" ASC`);
  // First-time customers: whose first purchase ever (not just within the filter) falls in the period;
  // the window sees all of a customer's purchases because filters apply after it.
  const { results } = await d1
    .prepare(
      `WITH purchases AS (
         SELECT t.project_id, t.customer_id, t.order_day, t.amount_cents, t.extra,
                COALESCE(t.order_id, t.file_id || ':' || t.row_number) AS order_key,
                MIN(t.order_day) OVER (PARTITION BY t.project_id, t.customer_id) AS first_day
         FROM transactions t WHERE ${inScope.sql} AND t.is_return = 0
       ),
       rows AS (
         SELECT t.project_id, t.customer_id, t.order_day, t.amount_cents, t.order_key, t.first_day,
                ${period} AS activity_on, ${dimension} AS dimension, ${firstPeriod} AS first_period
         FROM purchases t
       )
       SELECT activity_on, dimension,
              COUNT(DISTINCT project_id || ':' || customer_id) AS active_customers,
              COUNT(DISTINCT CASE WHEN ${firstTime.sql} THEN project_id || ':' || customer_id END) AS first_time_customers,
              COUNT(DISTINCT project_id || ':' || order_key) AS orders,
              SUM(amount_cents) AS revenue_cents,
              CAST(ROUND(SUM(amount_cents) * 1.0 / COUNT(DISTINCT project_id || ':' || order_key)) AS INTEGER) AS average_order_value_cents
       FROM rows WHERE ${filters.sql}
       GROUP BY activity_on, dimension ORDER BY ${order}`,
    )
    .bind(...inScope.params, ...dimensionParams, ...firstTime.params, ...filters.params)
    .all<Record<string, unknown>>();
  return results.map((r) => ({
    organization_id: scope.organizationId,
    project_id: scope.projectId,
    activity_on: r.activity_on as string | null,
    ...(q.groupBy !== undefined && { [q.groupBy]: r.dimension ?? null }),
    active_customers: r.active_customers as number,
    first_time_customers: r.first_time_customers as number,
    orders: r.orders as number,
    revenue_cents: r.revenue_cents as number,
    average_order_value_cents: r.average_order_value_cents as number,
  }));
}

/**
 * Retention matrix. `new`: a customer's cohort is the period of their first purchase ever. `active`: a
 * customer belongs to the cohort of every period they purchased in. Each cell counts cohort members
 * who purchased in the activity period; the period-0 cell (activity_on = cohort_on) is the cohort size.
 */
export async function userCohorts(
  d1: D1Database,
  scope: AnalyticsScope,
  q: { interval: "week" | "month"; userType: "new" | "active"; conditions: CrmCondition[]; orderBy?: string },
) {
  const inScope = scopeFilter(scope, "project_id");
  const period = periodSql(q.interval, "order_day");
  const filters = compileCrmConditions(q.conditions, { cohort_on: "cohort_on", activity_on: "activity_on" });
  const order = compileOrderBy(q.orderBy, ["cohort_on", "activity_on", "user_count"], `"cohort_on" ASC, "activity_on" ASC`);
  // `new` needs no join: each active period of a customer lands in the cohort of their first one.
  const cells =
    q.userType === "new"
      ? `SELECT cohort_on, p AS activity_on, COUNT(*) AS user_count
         FROM (SELECT p, MIN(p) OVER (PARTITION BY project_id, customer_id) AS cohort_on FROM act)
         GROUP BY cohort_on, p`
      : `SELECT c.p AS cohort_on, a.p AS activity_on, COUNT(*) AS user_count
         FROM act c JOIN act a ON a.project_id = c.project_id AND a.customer_id = c.customer_id AND a.p >= c.p
         GROUP BY c.p, a.p`;
  const { results } = await d1
    .prepare(
      `WITH act AS MATERIALIZED (SELECT DISTINCT project_id, customer_id, ${period} AS p FROM transactions WHERE ${inScope.sql} AND is_return = 0),
       cells AS (${cells})
       SELECT cohort_on, activity_on, user_count FROM cells WHERE ${filters.sql} ORDER BY ${order}`,
    )
    .bind(...inScope.params, ...filters.params)
    .all<{ cohort_on: string; activity_on: string; user_count: number }>();
  return results.map((r) => ({ organization_id: scope.organizationId, project_id: scope.projectId, user_type: q.userType, ...r }));
}

export const lifecycleStages = ["new", "active", "dormant", "lapsed", "reactivated"] as const;

/**
 * Lifecycle stage counts per period, each customer counted once per period in their stage at the
 * period's end (the seed's "latest stage within the period"). With the last purchase on or before the
 * period's last day: more than `lapsedAfterDays` ago → lapsed; more than `dormantAfterDays` → dormant;
 * otherwise new (first purchase ever in this period), reactivated (purchased in this period after a gap
 * of more than `dormantAfterDays`), or active. Customers whose first purchase comes later are not counted.
 */
export async function userLifecycles(
  d1: D1Database,
  scope: AnalyticsScope,
  q: { interval: "week" | "month"; periods: Array<[string, string]>; dormantAfterDays: number; lapsedAfterDays: number; conditions: CrmCondition[]; orderBy?: string },
) {
  const inScope = scopeFilter(scope, "project_id");
  const period = periodSql(q.interval, "order_day");
  const filters = compileCrmConditions(q.conditions, { activity_on: "activity_on", lifecycle_status: "lifecycle_status" });
  const order = compileOrderBy(q.orderBy, ["activity_on", "lifecycle_status", "user_count"], `"activity_on" ASC, "lifecycle_status" ASC`);
  const { results } = await d1
    .prepare(
      // MATERIALIZED keeps SQLite from re-reading the JSON and re-running the windows per joined row.
      `WITH periods AS MATERIALIZED (SELECT key AS idx, value ->> 0 AS ps, value ->> 1 AS pe FROM json_each(?1)),
       act AS (
         SELECT project_id, customer_id, ${period} AS p, MIN(order_day) AS first_day, MAX(order_day) AS last_day
         FROM transactions WHERE ${inScope.sql.replace("?", "?2")} AND is_return = 0 GROUP BY project_id, customer_id, p
       ),
       spans AS MATERIALIZED (
         SELECT project_id, customer_id, p, first_day, last_day,
                LAG(last_day) OVER w AS previous_last, LEAD(p) OVER w AS next_p,
                MIN(first_day) OVER (PARTITION BY project_id, customer_id) AS first_ever
         FROM act WINDOW w AS (PARTITION BY project_id, customer_id ORDER BY p)
       ),
       states AS (
         SELECT pr.ps AS activity_on, s.*, pr.pe,
                julianday(pr.pe) - julianday(s.last_day) AS gap,
                (s.p = pr.ps) AS bought_in_period
         FROM spans s JOIN periods pr ON pr.ps >= s.p AND (s.next_p IS NULL OR pr.ps < s.next_p)
       ),
       staged AS (
         SELECT activity_on, CASE
             WHEN gap > ?3 THEN 'lapsed'
             WHEN gap > ?4 THEN 'dormant'
             WHEN first_ever >= activity_on THEN 'new'
             WHEN bought_in_period AND previous_last IS NOT NULL AND julianday(first_day) - julianday(previous_last) > ?4 THEN 'reactivated'
             ELSE 'active' END AS lifecycle_status
         FROM states
       )
       SELECT activity_on, lifecycle_status, COUNT(*) AS user_count FROM staged
       WHERE ${filters.sql} GROUP BY activity_on, lifecycle_status ORDER BY ${order}`,
    )
    .bind(JSON.stringify(q.periods), inScope.params[0], q.lapsedAfterDays, q.dormantAfterDays, ...filters.params)
    .all<{ activity_on: string; lifecycle_status: (typeof lifecycleStages)[number]; user_count: number }>();
  return results.map((r) => ({ organization_id: scope.organizationId, project_id: scope.projectId, ...r }));
}
