import type { Bindings } from "../env";
import { ApiError, invalidField } from "../errors";
import type { ActivityCell } from "../crm/activity";
import { matchesRecord, orderComparator, type CrmCondition } from "../crm/conditions";
import type { LifecycleCell } from "../crm/lifecycles";
import { dayNumber, periodsBefore, periodsBetween, type Interval } from "../crm/periods";
import { MAX_PERIODS, MAX_PURCHASE_LINES, type LimitKind } from "../crm/limits";
import { historyName, planParts, type CrmAnswer, type HistoryPart } from "../../durable-objects/purchase-history";
import type { AnalyticsScope } from "../analytics/scope";

/**
 * CRM analytics (`/api/crm/analytics/*`): activity per dimension and period, retention cohorts and lifecycle
 * stages. Each project's PurchaseHistory object answers for its own purchases, or, for a project
 * past what one object holds, the objects of its parts, each holding whole customers; customers and
 * orders belong to one project and one part, so every count (distinct customers included) is the sum
 * of the parts' and an organization's figures are the sums of its projects'. Periods are
 * calendar days, Monday-based weeks or months of the `order_day` written in the data, each named by
 * its first day (YYYY-MM-DD).
 */
export type { CrmCondition } from "../crm/conditions";
export { lifecycleStages } from "../crm/lifecycles";

/** CRM_OBJECT_LINES: the lines one object holds (MAX_PURCHASE_LINES unless set; tests split small projects). */
type Env = Pick<Bindings, "DB" | "PURCHASE_HISTORY"> & { CRM_OBJECT_LINES?: string };

const objectLines = (env: Env) => Number(env.CRM_OBJECT_LINES) || MAX_PURCHASE_LINES;

/** The scope's projects that have ever had a transaction, with the version of their purchases. */
async function projectsWithPurchases(d1: D1Database, scope: AnalyticsScope) {
  const { results } = await d1
    .prepare(`SELECT id, purchases_version AS version FROM projects WHERE ${scope.projectId ? "id" : "organization_id"} = ? AND purchases_version > 0`)
    .bind(scope.projectId ?? scope.organizationId)
    .all<{ id: string; version: number }>();
  return results;
}

const history = (env: Env, part: Pick<HistoryPart, "projectId" | "shard">) => env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(historyName(part)));
type History = ReturnType<typeof history>;

/** Drops a deleted project's PurchaseHistory (its parts' too), memory and storage. */
export async function forgetPurchaseHistory(env: Env, projectId: string) {
  await history(env, { projectId }).forget(projectId);
}

const limitReached = (projectId: string, limit: { kind: LimitKind; detail: string }) =>
  new ApiError(limit.kind === "crm-limit:lines" ? "project_too_large" : "result_too_large", { project_id: projectId, reason: limit.detail });

/**
 * One project's cells: from its own object, or from the parts of its plan added up. A part that
 * outgrew its object has the project planned again (the own object splits it anew) and the parts
 * asked again.
 */
async function askProject<T>(env: Env, project: { id: string; version: number }, question: (h: History, part: HistoryPart) => Promise<CrmAnswer<T>>): Promise<T[]> {
  const own: HistoryPart = { projectId: project.id, version: project.version, maxLines: objectLines(env) };
  let reply = await question(history(env, own), own);
  for (let attempt = 1; ; attempt++) {
    if ("cells" in reply) return reply.cells;
    if ("limit" in reply) throw limitReached(project.id, reply.limit);
    const parts = planParts(project.id, project.version, own.maxLines, reply.plan);
    // Every part is awaited (allSettled), so a failure in one leaves no rejection unhandled.
    const settled = await Promise.allSettled(parts.map((part) => question(history(env, part), part)));
    const cells: T[] = [];
    let outgrown = false;
    for (const outcome of settled) {
      if (outcome.status === "rejected") throw outcome.reason;
      const answer = outcome.value;
      if ("cells" in answer) cells.push(...answer.cells);
      else if ("limit" in answer && (answer.limit.kind !== "crm-limit:lines" || attempt === 3)) throw limitReached(project.id, answer.limit);
      else outgrown = true;
    }
    if (!outgrown) return cells;
    reply = await history(env, own).split(project.id, own.maxLines, reply.plan.id);
  }
}

/** Asks each project (see askProject); a limit reached in one answers 422 for the whole view. */
async function askEach<T>(env: Env, projects: Array<{ id: string; version: number }>, question: (h: History, part: HistoryPart) => Promise<CrmAnswer<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(projects.map((p) => askProject(env, p, question)));
  const cells: T[] = [];
  for (const outcome of settled) {
    if (outcome.status === "rejected") throw outcome.reason;
    cells.push(...outcome.value);
  }
  return cells;
}

/** Reads a project's changed purchases into its PurchaseHistory (or its parts, one at a time) ahead of the first question. */
export async function warmPurchaseHistory(env: Env, projectId: string) {
  try {
    const own = { projectId, maxLines: objectLines(env) };
    const state = await history(env, own).warm(own);
    if (!("plan" in state)) return state;
    for (const part of planParts(projectId, 0, own.maxLines, state.plan)) await history(env, part).warm(part);
    return state;
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
  const perProject = await askEach(env, await projectsWithPurchases(env.DB, scope), (h, part) => h.activity(part, q.interval, q.groupBy ?? null, q.conditions));
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
  const perProject = await askEach(env, await projectsWithPurchases(env.DB, scope), (h, part) => h.cohorts(part, q.interval, q.userType));
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
  const perProject = await askEach(env, projects, (h, part) => h.lifecycles(part, q.interval, periods, thresholds));
  return sumBy<LifecycleCell>(perProject, (c) => `${c.activity_on}/${c.lifecycle_status}`, ["user_count"])
    .filter((c) => matchesRecord(q.conditions, c))
    .sort(order)
    .map((c) => ({ organization_id: scope.organizationId, project_id: scope.projectId, ...c }));
}
