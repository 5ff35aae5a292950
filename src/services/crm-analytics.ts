import type { Bindings } from "../env";
import { ApiError, invalidField } from "../errors";
import type { ActivityCell } from "../crm/activity";
import { matchesRecord, orderComparator, type CrmCondition } from "../crm/conditions";
import type { LifecycleCell } from "../crm/lifecycles";
import { dayNumber, periodsBefore, periodsBetween, type Interval } from "../crm/periods";
import { MAX_PERIODS } from "../crm/limits";
import type { CrmAnswer } from "../../durable-objects/purchase-history";
import type { AnalyticsScope } from "../analytics/scope";

/**
 * CRM analytics (`/api/crm/analytics/*`): activity per dimension and period, retention cohorts and lifecycle
 * stages. Each project's PurchaseHistory object answers for its own purchases; customers and orders
 * belong to one project, so an organization's figures are the sums of its projects'. Periods are
 * calendar days, Monday-based weeks or months of the `order_day` written in the data, each named by
 * its first day (YYYY-MM-DD).
 */
export type { CrmCondition } from "../crm/conditions";
export { lifecycleStages } from "../crm/lifecycles";

type Env = Pick<Bindings, "DB" | "PURCHASE_HISTORY">;

/** The scope's projects that have ever had a transaction, with the version of their purchases. */
async function projectsWithPurchases(d1: D1Database, scope: AnalyticsScope) {
  const { results } = await d1
    .prepare(`SELECT id, purchases_version AS version FROM projects WHERE ${scope.projectId ? "id" : "organization_id"} = ? AND purchases_version > 0`)
    .bind(scope.projectId ?? scope.organizationId)
    .all<{ id: string; version: number }>();
  return results;
}

const history = (env: Env, projectId: string) => env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(projectId));

/** Drops a deleted project's PurchaseHistory, memory and storage. */
export async function forgetPurchaseHistory(env: Env, projectId: string) {
  await history(env, projectId).forget();
}

/** Asks each project's PurchaseHistory; a limit reached in one answers 422 for the whole view. */
async function askEach<T>(
  env: Env,
  projects: Array<{ id: string; version: number }>,
  question: (h: ReturnType<typeof history>, p: { id: string; version: number }) => Promise<CrmAnswer<T>>,
): Promise<T[]> {
  // Every question is awaited (allSettled), so a failure in one leaves no rejection unhandled.
  const settled = await Promise.allSettled(projects.map((p) => question(history(env, p.id), p)));
  const cells: T[] = [];
  for (const [i, outcome] of settled.entries()) {
    if (outcome.status === "rejected") throw outcome.reason;
    const reply = outcome.value;
    if ("limit" in reply) {
      const { kind, detail } = reply.limit;
      throw new ApiError(kind === "crm-limit:lines" ? "project_too_large" : "result_too_large", { project_id: projects[i]!.id, reason: detail });
    }
    cells.push(...(reply.cells as T[]));
  }
  return cells;
}

/** Reads a project's changed purchases into its PurchaseHistory ahead of the first question. */
export async function warmPurchaseHistory(env: Env, projectId: string) {
  try {
    return await history(env, projectId).warm(projectId);
  } catch (error) {
    // Only a head start: the next question reads what it needs.
    console.error(JSON.stringify({ level: "error", message: "purchase history warm-up failed", projectId, error: String(error) }));
    return null;
  }
}

/** Adds up per-project rows that share a key. */
function sumBy<T extends Record<string, unknown>>(rows: T[], key: (row: T) => string, counts: ReadonlyArray<keyof T>): T[] {
  const merged = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    const into = merged.get(k);
    if (!into) merged.set(k, { ...row });
    else for (const c of counts) (into[c] as number) += row[c] as number;
  }
  return [...merged.values()];
}

const DIMENSION_KEY = /^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$/;
const ACTIVITY_COLUMNS = ["activity_on", "dimension", "active_customers", "first_time_customers", "orders", "revenue_cents", "average_order_value_cents"];

export async function activity(env: Env, scope: AnalyticsScope, q: { interval: Interval; groupBy?: string; conditions: CrmCondition[]; orderBy?: string }) {
  if (q.groupBy !== undefined && !DIMENSION_KEY.test(q.groupBy)) {
    throw invalidField("group_by", "invalid_value", "group_by names an extra_features key (letters, digits, _ . - and spaces)");
  }
  // The dimension comes back as a property named by the key, beside the fixed ones.
  if (q.groupBy !== undefined && ["organization_id", "project_id", ...ACTIVITY_COLUMNS].includes(q.groupBy)) {
    throw invalidField("group_by", "invalid_value", `group_by cannot be "${q.groupBy}", a column of the answer`);
  }
  if (q.groupBy === undefined && q.conditions.some((c) => c.field === "dimension")) {
    throw invalidField("filters", "invalid_value", "conditions on dimension need group_by");
  }
  const order = orderComparator(q.orderBy, ACTIVITY_COLUMNS, ["activity_on", "dimension"]);
  const perProject = await askEach(env, await projectsWithPurchases(env.DB, scope), (h, p) => h.activity(p.id, p.version, q.interval, q.groupBy ?? null, q.conditions));
  const cells = sumBy<ActivityCell>(perProject, (c) => JSON.stringify([c.activity_on, c.dimension]), ["active_customers", "first_time_customers", "orders", "revenue_cents"]);
  return cells
    .map((c) => ({ ...c, average_order_value_cents: c.orders > 0 ? Math.round(c.revenue_cents / c.orders) : 0 }))
    .sort(order)
    .map((c) => ({
      organization_id: scope.organizationId,
      project_id: scope.projectId,
      activity_on: c.activity_on,
      ...(q.groupBy !== undefined && { [q.groupBy]: c.dimension }),
      active_customers: c.active_customers,
      first_time_customers: c.first_time_customers,
      orders: c.orders,
      revenue_cents: c.revenue_cents,
      average_order_value_cents: c.average_order_value_cents,
    }));
}

/** The retention matrix (see cohortCells); conditions on cohort_on and activity_on select cells. */
export async function userCohorts(env: Env, scope: AnalyticsScope, q: { interval: "week" | "month"; userType: "new" | "active"; conditions: CrmCondition[]; orderBy?: string }) {
  const order = orderComparator(q.orderBy, ["cohort_on", "activity_on", "user_count"], ["cohort_on", "activity_on"]);
  const perProject = await askEach(env, await projectsWithPurchases(env.DB, scope), (h, p) => h.cohorts(p.id, p.version, q.interval, q.userType));
  return sumBy(perProject, (c) => `${c.cohort_on}/${c.activity_on}`, ["user_count"])
    .filter((c) => matchesRecord(q.conditions, c))
    .sort(order)
    .map((c) => ({ organization_id: scope.organizationId, project_id: scope.projectId, user_type: q.userType, ...c }));
}

/**
 * Stage counts per period (see lifecycleCells). Conditions select rows by the period's first day
 * (`activity_on`) and the stage, as filters of any other answer do; the periods computed are those
 * between the lowest and highest activity_on the conditions allow, and without a bound on one side
 * the 12 periods up to the latest purchase (or up to the upper bound).
 */
export async function userLifecycles(
  env: Env,
  scope: AnalyticsScope,
  q: { interval: "week" | "month"; dormantAfterDays: number; lapsedAfterDays: number; conditions: CrmCondition[]; orderBy?: string },
) {
  const order = orderComparator(q.orderBy, ["activity_on", "lifecycle_status", "user_count"], ["activity_on", "lifecycle_status"]);
  const bounds = q.conditions.filter((c) => c.field === "activity_on");
  const dates = (c: CrmCondition) => (c.values ?? []).map(String).sort();
  const lower = bounds.flatMap((c) => (c.op === "range" ? [c.min] : c.op === "gte" || c.op === "gt" || c.op === "eq" ? [c.value] : c.op === "in" ? dates(c).slice(0, 1) : [])).filter(Boolean) as string[];
  const upper = bounds.flatMap((c) => (c.op === "range" ? [c.max] : c.op === "lte" || c.op === "lt" || c.op === "eq" ? [c.value] : c.op === "in" ? dates(c).slice(-1) : [])).filter(Boolean) as string[];
  const projects = await projectsWithPurchases(env.DB, scope);
  if (projects.length === 0) return [];
  let to = upper.sort().at(0);
  if (to === undefined) {
    // One index probe per project (transactions_project_day_idx), not a scan of their transactions.
    const latest = await env.DB.prepare(`SELECT MAX((SELECT MAX(order_day) FROM transactions t WHERE t.project_id = p.value)) AS day FROM json_each(?) p`)
      .bind(JSON.stringify(projects.map((p) => p.id)))
      .first<{ day: string | null }>();
    to = latest?.day ?? new Date().toISOString().slice(0, 10);
  }
  const last = dayNumber(to);
  const first = lower.length ? dayNumber(lower.sort().at(-1)!) : periodsBefore(q.interval, last, 11);
  if (first > last) return [];
  const periods = periodsBetween(q.interval, first, last, MAX_PERIODS + 1);
  if (periods.length > MAX_PERIODS) {
    throw invalidField("filters", "too_big", `activity_on spans more than ${MAX_PERIODS} periods; narrow it`);
  }
  const thresholds = { dormantAfterDays: q.dormantAfterDays, lapsedAfterDays: q.lapsedAfterDays };
  const perProject = await askEach(env, projects, (h, p) => h.lifecycles(p.id, p.version, q.interval, periods, thresholds));
  return sumBy<LifecycleCell>(perProject, (c) => `${c.activity_on}/${c.lifecycle_status}`, ["user_count"])
    .filter((c) => matchesRecord(q.conditions, c))
    .sort(order)
    .map((c) => ({ organization_id: scope.organizationId, project_id: scope.projectId, ...c }));
}
