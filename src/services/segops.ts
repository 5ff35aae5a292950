import { count, eq } from "drizzle-orm";
import { analyticsStore } from "../analytics";
import type { Database } from "../db/client";
import { members } from "../db/schema";
import type { Bindings } from "../env";
import { plans, reportedLimit } from "../billing/plans";
import type { AnalyticsScope } from "../analytics/scope";
import { scopeFilter } from "../analytics/scope";
import { billingStateOf, rowsUsed, storageUsed } from "./quotas";

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The SegOps analytics (the six read-only `/api/analytics/*` reports: overview, segments, overlap, activations, copilot, usage), over an analytics scope. */
export async function overviewAnalytics(env: Bindings, db: Database, scope: AnalyticsScope) {
  const segmentsIn = scopeFilter(scope, "project_id");
  const customersIn = scopeFilter(scope, "project_id");
  const now = Date.now();
  const [segmentCount, membersCount] = await env.DB.batch<{ n: number }>([
    env.DB.prepare(`SELECT COUNT(*) AS n FROM segments WHERE ${segmentsIn.sql}`).bind(...segmentsIn.params),
    env.DB.prepare(`SELECT COUNT(*) AS n FROM customers WHERE ${customersIn.sql} AND segment_id IS NOT NULL`).bind(...customersIn.params),
  ]);
  const events = await analyticsStore(env).usage({
    organizationId: scope.organizationId,
    projectId: scope.projectId,
    types: ["rows_ingested"],
    start: now - 30 * DAY_MS,
    end: now + 1,
    slotMinutes: 1440,
    dimensions: [],
  });
  const credits = await genaiCredits(env.DB, db, scope.organizationId);
  return {
    segment_count: segmentCount!.results[0]!.n,
    total_members: membersCount!.results[0]!.n,
    events_30d: Math.round(events.reduce((s, r) => s + r.value, 0)),
    ai_credits_used: credits.used,
    ai_credits_limit: credits.limit,
  };
}

async function genaiCredits(d1: D1Database, db: Database, organizationId: string) {
  const { plan, window } = await billingStateOf(db, organizationId);
  const row = await d1.prepare("SELECT genai_ops, model_runs FROM usage_counters WHERE organization_id = ? AND period = ?").bind(organizationId, window.key).first<{ genai_ops: number; model_runs: number }>();
  return { plan, used: row?.genai_ops ?? 0, modelRuns: row?.model_runs ?? 0, limit: reportedLimit(plans[plan].quotas.genaiOps) };
}

/** Segments with their last 30 days of daily sizes; a trend needs sizes on at least two days. */
export async function segmentTrends(d1: D1Database, scope: AnalyticsScope) {
  const inScope = scopeFilter(scope, "project_id");
  const since = isoDay(Date.now() - 29 * DAY_MS);
  const [segmentRows, sizeRows] = await d1.batch<Record<string, any>>([
    d1.prepare(`SELECT id, name, kind, size, last_computed_at FROM segments WHERE ${inScope.sql} ORDER BY kind, created_at`).bind(...inScope.params),
    d1.prepare(`SELECT segment_id, day, size FROM segment_daily_sizes WHERE ${inScope.sql} AND day >= ? ORDER BY day`).bind(...inScope.params, since),
  ]);
  const trends = new Map<string, Array<{ day: string; count: number }>>();
  for (const r of sizeRows!.results) (trends.get(r.segment_id) ?? trends.set(r.segment_id, []).get(r.segment_id)!).push({ day: r.day, count: r.size });
  return segmentRows!.results.map((s) => {
    const trend = trends.get(s.id) ?? [];
    return {
      id: s.id as string,
      name: s.name as string,
      kind: s.kind as string,
      member_count: s.size as number,
      last_computed_at: s.last_computed_at ? new Date(s.last_computed_at).toISOString() : null,
      trend: trend.length >= 2 ? trend : [],
    };
  });
}

/** The top 20 pairs of the latest snapshot of each project in scope. */
export async function overlapAnalytics(d1: D1Database, scope: AnalyticsScope) {
  const inScope = scopeFilter(scope, "o.project_id");
  const { results } = await d1
    .prepare(
      `WITH latest AS (SELECT o.project_id, MAX(o.day) AS day FROM segment_overlaps o WHERE ${inScope.sql} GROUP BY o.project_id)
       SELECT o.segment_a_id, sa.name AS a_name, o.segment_b_id, sb.name AS b_name, o.overlap,
              MIN(za.size, zb.size) AS smaller
       FROM segment_overlaps o
       JOIN latest l ON l.project_id = o.project_id AND l.day = o.day
       JOIN segments sa ON sa.id = o.segment_a_id
       JOIN segments sb ON sb.id = o.segment_b_id
       JOIN segment_daily_sizes za ON za.segment_id = o.segment_a_id AND za.day = o.day
       JOIN segment_daily_sizes zb ON zb.segment_id = o.segment_b_id AND zb.day = o.day
       WHERE o.overlap > 0
       ORDER BY o.overlap DESC, o.segment_a_id, o.segment_b_id LIMIT 20`,
    )
    .bind(...inScope.params)
    .all<Record<string, any>>();
  return results.map((r) => ({
    seg_a_id: r.segment_a_id as string,
    seg_a_name: r.a_name as string,
    seg_b_id: r.segment_b_id as string,
    seg_b_name: r.b_name as string,
    overlap: r.overlap as number,
    overlap_pct: r.smaller > 0 ? Math.round((r.overlap / r.smaller) * 1000) / 10 : 0,
  }));
}

/**
 * One row per automation in scope: its segment, connector type and status, and its sync logs (the
 * finished runs): success_rate over the last 30 (null without any), the 5 most recent, the last
 * sync's time and error; member_count is the segment's current size.
 */
export async function activationAnalytics(d1: D1Database, scope: AnalyticsScope) {
  const inScope = scopeFilter(scope, "a.project_id");
  const [automationRows, logRows] = await d1.batch<Record<string, any>>([
    d1
      .prepare(
        `SELECT a.id, a.segment_id, s.name AS segment_name, COALESCE(s.size, 0) AS member_count, c.type AS connector_type, a.status, a.status_reason
         FROM automations a LEFT JOIN segments s ON s.id = a.segment_id LEFT JOIN connectors c ON c.id = a.connector_id
         WHERE ${inScope.sql} ORDER BY a.created_at, a.id`,
      )
      .bind(...inScope.params),
    d1
      .prepare(
        `SELECT automation_id, status, delivered_count, error_message, finished_at FROM (
           SELECT r.automation_id, r.status, r.delivered_count, r.error_message, r.finished_at,
                  ROW_NUMBER() OVER (PARTITION BY r.automation_id ORDER BY r.finished_at DESC, r.id) AS n
           FROM automation_runs r JOIN automations a ON a.id = r.automation_id
           WHERE ${inScope.sql} AND r.status IN ('success', 'partial', 'failed'))
         WHERE n <= 30 ORDER BY automation_id, finished_at DESC`,
      )
      .bind(...inScope.params),
  ]);
  const logs = new Map<string, Array<Record<string, any>>>();
  for (const row of logRows!.results) (logs.get(row.automation_id) ?? logs.set(row.automation_id, []).get(row.automation_id)!).push(row);
  return automationRows!.results.map((a) => {
    const recent = logs.get(a.id) ?? [];
    const latest = recent[0];
    return {
      id: a.id as string,
      segment_id: a.segment_id as string,
      // null when a model run dropped the segment; status_reason then says which and when
      segment_name: a.segment_name as string | null,
      connector_type: (a.connector_type ?? "") as string,
      status: a.status as string,
      status_reason: a.status_reason as string | null,
      last_synced_at: latest ? new Date(latest.finished_at).toISOString() : null,
      last_error: (latest?.error_message ?? "") as string,
      member_count: a.member_count as number,
      success_rate: recent.length ? Math.round((100 * recent.filter((l) => l.status === "success").length) / recent.length) : null,
      sync_logs: recent.slice(0, 5).map((l) => ({
        status: l.status as string,
        user_count: l.delivered_count as number,
        error_message: (l.error_message ?? "") as string,
        synced_at: new Date(l.finished_at).toISOString(),
      })),
    };
  });
}

/**
 * Copilot calls from their log (copilot_calls): the total, and the last 30 UTC days with any call. Read
 * from D1 rather than the usage series: the log is exact, keeps the total beyond the series' retention,
 * and goes with the project like its prompts.
 */
export async function copilotAnalytics(d1: D1Database, scope: AnalyticsScope) {
  const inScope = scopeFilter(scope, "project_id");
  const since = Date.parse(isoDay(Date.now() - 29 * DAY_MS));
  const [total, daily] = await d1.batch<Record<string, any>>([
    d1.prepare(`SELECT COUNT(*) AS n FROM copilot_calls WHERE ${inScope.sql}`).bind(...inScope.params),
    d1
      .prepare(
        `SELECT date(created_at / 1000, 'unixepoch') AS day, SUM(status = 'success') AS success, SUM(status = 'error') AS error
         FROM copilot_calls WHERE ${inScope.sql} AND created_at >= ? GROUP BY 1 ORDER BY 1`,
      )
      .bind(...inScope.params, since),
  ]);
  return {
    total: total!.results[0]!.n as number,
    daily: daily!.results.map((r) => ({ day: r.day as string, success: r.success as number, error: r.error as number })),
  };
}

/** The calendar month (UTC) against the plan's quotas; -1 for unlimited. */
export async function planUsage(d1: D1Database, db: Database, organizationId: string) {
  const credits = await genaiCredits(d1, db, organizationId);
  const plan = plans[credits.plan];
  const now = new Date();
  const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0));
  const [profiles, segmentCount] = await d1.batch<{ n: number }>([
    d1.prepare("SELECT COUNT(*) AS n FROM customers WHERE project_id IN (SELECT id FROM projects WHERE organization_id = ?)").bind(organizationId),
    d1.prepare("SELECT COUNT(*) AS n FROM segments WHERE organization_id = ?").bind(organizationId),
  ]);
  const seats = await db.select({ n: count() }).from(members).where(eq(members.organizationId, organizationId)).get();
  const storage = await storageUsed(db, organizationId);
  return {
    plan_name: plan.name,
    plan_tier: plan.id,
    period_start: isoDay(periodStart.getTime()),
    period_end: isoDay(periodEnd.getTime()),
    events: { used: await rowsUsed(db, organizationId), limit: reportedLimit(plan.quotas.rows) },
    users: { used: profiles!.results[0]!.n, limit: reportedLimit(plan.quotas.profiles) },
    segments: { used: segmentCount!.results[0]!.n, limit: -1 },
    ai_credits: { used: credits.used, limit: credits.limit },
    model_runs: { used: credits.modelRuns, limit: reportedLimit(plan.quotas.modelRuns) },
    storage_gb: { used: Math.round((storage / 1024 ** 3) * 1e6) / 1e6, limit: plan.quotas.storageBytes === null ? -1 : plan.quotas.storageBytes / 1024 ** 3 },
    team_seats: { used: seats?.n ?? 0, limit: reportedLimit(plan.quotas.teamSeats) },
  };
}

