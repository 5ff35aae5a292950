import { analyticsStore } from "../analytics";
import type { Database } from "../db/client";
import type { Bindings } from "../env";
import { plans, reportedLimit, type PlanQuotas } from "../billing/plans";
import { activeAutomations, billingStateOf } from "./quotas";

const DAY_MS = 86_400_000;
const RATE_DAYS = 7;
const GB = 1024 ** 3;
/** The marks of a quota recorded once per period, for notifications. */
export const USAGE_THRESHOLDS = [80, 100] as const;

const metrics = ["rows", "profiles", "automations", "modelRuns", "genaiOps", "storageGb", "teamSeats"] as const;
type Metric = (typeof metrics)[number];
const planQuota: Record<Metric, keyof PlanQuotas> = {
  rows: "rows",
  profiles: "profiles",
  automations: "automations",
  modelRuns: "modelRuns",
  genaiOps: "genaiOps",
  storageGb: "storageBytes",
  teamSeats: "teamSeats",
};

/**
 * The organization's usage against its plan in the current billing period (the subscription's monthly
 * cycle; the calendar month otherwise), each metric measured as the seed's metering table says, with
 * the date its limit will be reached at the last 7 days' rate and the 80%/100% marks crossed.
 */
export async function organizationUsage(env: Bindings, db: Database, organizationId: string, now = new Date()) {
  const d1 = env.DB;
  const { plan, window } = await billingStateOf(db, organizationId, now);
  const since = now.getTime() - RATE_DAYS * DAY_MS;
  const [current, recent] = await d1.batch<Record<string, number | null>>([
    d1
      .prepare(
        `SELECT
           (SELECT COALESCE(SUM(row_count), 0) FROM files WHERE organization_id = ?1 AND status = 'completed') AS rows,
           (SELECT COUNT(*) FROM customers WHERE project_id IN (SELECT id FROM projects WHERE organization_id = ?1)) AS profiles,
           (SELECT COALESCE(SUM(size_bytes), 0) FROM files WHERE organization_id = ?1) AS storage_bytes,
           (SELECT COUNT(*) FROM members WHERE organization_id = ?1) AS team_seats,
           (SELECT model_runs FROM usage_counters WHERE organization_id = ?1 AND period = ?2) AS model_runs,
           (SELECT genai_ops FROM usage_counters WHERE organization_id = ?1 AND period = ?2) AS genai_ops`,
      )
      .bind(organizationId, window.key),
    d1
      .prepare(
        `SELECT
           (SELECT COALESCE(SUM(row_count), 0) FROM files WHERE organization_id = ?1 AND status = 'completed' AND updated_at >= ?2) AS rows,
           (SELECT COALESCE(SUM(size_bytes), 0) FROM files WHERE organization_id = ?1 AND created_at >= ?2) AS storage_bytes,
           (SELECT COUNT(*) FROM members WHERE organization_id = ?1 AND created_at >= ?2) AS team_seats`,
      )
      .bind(organizationId, since),
  ]);
  const used = current!.results[0]!;
  const added = recent!.results[0]!;
  const events = await analyticsStore(env).usage({
    organizationId,
    types: ["model_run", "genai_op"],
    start: since,
    end: now.getTime() + 1,
    slotMinutes: 1440,
    dimensions: ["type"],
  });
  const eventsOf = (type: string) => events.filter((e) => e.type === type).reduce((sum, e) => sum + e.value, 0);

  const figures: Record<Metric, { used: number; addedLastWeek: number | null }> = {
    rows: { used: used.rows ?? 0, addedLastWeek: added.rows ?? 0 },
    // Profiles are rebuilt by each model run and carry no creation time, and active automations are a
    // level, not a flow: neither has a rate to forecast from.
    profiles: { used: used.profiles ?? 0, addedLastWeek: null },
    automations: { used: await activeAutomations(db, organizationId), addedLastWeek: null },
    modelRuns: { used: used.model_runs ?? 0, addedLastWeek: eventsOf("model_run") },
    genaiOps: { used: used.genai_ops ?? 0, addedLastWeek: eventsOf("genai_op") },
    storageGb: { used: (used.storage_bytes ?? 0) / GB, addedLastWeek: (added.storage_bytes ?? 0) / GB },
    teamSeats: { used: used.team_seats ?? 0, addedLastWeek: added.team_seats ?? 0 },
  };
  const limits = Object.fromEntries(
    metrics.map((m) => {
      const raw = plans[plan].quotas[planQuota[m]];
      return [m, raw === null ? null : m === "storageGb" ? raw / GB : raw];
    }),
  ) as Record<Metric, number | null>;

  const thresholds = await recordThresholds(d1, organizationId, window.start, metrics.map((m) => ({ metric: m, used: figures[m].used, limit: limits[m] })), now);
  const data = Object.fromEntries(
    metrics.map((m) => [
      m,
      {
        used: m === "storageGb" ? Math.round(figures[m].used * 1e6) / 1e6 : figures[m].used,
        limit: reportedLimit(limits[m]),
        forecast_exhausted_at: forecast(figures[m].used, limits[m], figures[m].addedLastWeek, now, window.end),
        thresholds: thresholds.get(m) ?? [],
      },
    ]),
  ) as Record<Metric, { used: number; limit: number; forecast_exhausted_at: string | null; thresholds: Array<{ percent: number; crossed_at: string }> }>;
  return { plan, period_start: window.start.toISOString(), period_end: window.end.toISOString(), data };
}

/**
 * When `used` reaches `limit` at the rate of the last 7 days: now when it already has, null when the
 * limit is unlimited, nothing was added, or the date falls after the period's end.
 */
export function forecast(used: number, limit: number | null, addedLastWeek: number | null, now: Date, periodEnd: Date): string | null {
  if (limit === null || addedLastWeek === null) return null;
  if (used >= limit) return now.toISOString();
  if (addedLastWeek <= 0) return null;
  const at = now.getTime() + ((limit - used) / addedLastWeek) * RATE_DAYS * DAY_MS;
  return at < periodEnd.getTime() ? new Date(at).toISOString() : null;
}

/**
 * Statements recording each 80%/100% mark of a quota that `used` has crossed this period, once: a mark
 * already recorded keeps its first time. Run when usage is read and when a monthly counter is taken.
 */
export function thresholdStatements(d1: D1Database, organizationId: string, periodStart: Date, usage: Array<{ metric: string; used: number; limit: number | null }>, now: Date) {
  const insert = d1.prepare(
    'INSERT INTO usage_thresholds (organization_id, period_start, metric, threshold, used, "limit", crossed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  return usage.flatMap(({ metric, used, limit }) =>
    limit === null || limit <= 0
      ? []
      : USAGE_THRESHOLDS.filter((t) => used >= (limit * t) / 100).map((t) => insert.bind(organizationId, periodStart.toISOString(), metric, t, used, limit, now.getTime())),
  );
}

/** Records the marks crossed now and lists all those of this period, by metric. */
async function recordThresholds(d1: D1Database, organizationId: string, periodStart: Date, usage: Array<{ metric: string; used: number; limit: number | null }>, now: Date) {
  const list = d1
    .prepare("SELECT metric, threshold, crossed_at FROM usage_thresholds WHERE organization_id = ? AND period_start = ? ORDER BY metric, threshold")
    .bind(organizationId, periodStart.toISOString());
  const results = await d1.batch<{ metric: string; threshold: number; crossed_at: number }>([...thresholdStatements(d1, organizationId, periodStart, usage, now), list]);
  const byMetric = new Map<string, Array<{ percent: number; crossed_at: string }>>();
  for (const row of results.at(-1)!.results) {
    (byMetric.get(row.metric) ?? byMetric.set(row.metric, []).get(row.metric)!).push({ percent: row.threshold, crossed_at: new Date(row.crossed_at).toISOString() });
  }
  return byMetric;
}
