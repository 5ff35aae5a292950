import { upliftScores } from "../engine/uplift";
import { SENT_TO_MEMBER } from "./automations";

/**
 * Campaign outcomes and the uplift model. An observation is a customer of a finished run (success or
 * partial) whose outcome window has closed: treated if the run (or an earlier sync) certainly delivered
 * to them (a member whose delivery is unknown is neither), control if held out; converted if they
 * bought within the window after the run. Features are taken
 * as of the run (orders, net spend and days since the last purchase before it), so the outcome does
 * not leak into them.
 */

/** Fewer observations than this in either group and no customer is scored: too little evidence. */
export const MIN_UPLIFT_GROUP = 50;

const DAY_MS = 86_400_000;

const observationsSql = `
  WITH runs AS (
    SELECT r.id, r.finished_at AS t0, r.finished_at + a.outcome_window_days * ${DAY_MS} AS t1
    FROM automation_runs r JOIN automations a ON a.id = r.automation_id
    WHERE r.project_id = ?1 AND r.status IN ('success', 'partial') AND r.finished_at + a.outcome_window_days * ${DAY_MS} <= ?2),
  obs AS (
    SELECT runs.t0, runs.t1, m.customer_id, CASE WHEN m.grp = 'control' THEN 0 ELSE 1 END AS treated
    FROM automation_run_members m JOIN runs ON runs.id = m.run_id
    LEFT JOIN automation_chunks c ON c.run_id = m.run_id AND c.chunk = m.chunk
    WHERE m.grp IN ('control', 'in_sync') OR (m.grp = 'treated' AND ${SENT_TO_MEMBER}))`;

const converted = `EXISTS (SELECT 1 FROM transactions t WHERE t.project_id = ?1 AND t.customer_id = obs.customer_id AND t.is_return = 0 AND t.ordered_at > obs.t0 AND t.ordered_at <= obs.t1)`;

/** Treated and control counts, their conversion rates and the observed lift (treated − control). */
export async function upliftSummary(d1: D1Database, projectId: string, now = Date.now()) {
  const row = await d1
    .prepare(`${observationsSql} SELECT COALESCE(SUM(treated), 0) AS treated, COALESCE(SUM(1 - treated), 0) AS control,
       COALESCE(SUM(treated * ${converted}), 0) AS treated_converted, COALESCE(SUM((1 - treated) * ${converted}), 0) AS control_converted FROM obs`)
    .bind(projectId, now)
    .first<{ treated: number; control: number; treated_converted: number; control_converted: number }>();
  const t = row ?? { treated: 0, control: 0, treated_converted: 0, control_converted: 0 };
  const rate = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : null);
  const treatedRate = rate(t.treated_converted, t.treated);
  const controlRate = rate(t.control_converted, t.control);
  return {
    treated: t.treated,
    control: t.control,
    treated_conversion: treatedRate,
    control_conversion: controlRate,
    observed_lift: treatedRate === null || controlRate === null ? null : Math.round((treatedRate - controlRate) * 10_000) / 10_000,
    min_group: MIN_UPLIFT_GROUP,
  };
}

type FeatureRow = { frequency: number; monetary_cents: number; recency_days: number | null };

/** ln(1+orders), ln(1+net spend in units), ln(1+days since the last purchase) (no purchase: the largest seen). */
function featureMatrix(rows: FeatureRow[]) {
  const maxRecency = Math.max(0, ...rows.map((r) => r.recency_days ?? 0));
  const x = new Float64Array(rows.length * 3);
  rows.forEach((r, i) => {
    x[i * 3] = Math.log1p(Math.max(0, r.frequency));
    x[i * 3 + 1] = Math.log1p(Math.max(0, r.monetary_cents) / 100);
    x[i * 3 + 2] = Math.log1p(Math.max(0, r.recency_days ?? maxRecency));
  });
  return x;
}

function standardize(x: Float64Array, d: number) {
  const n = x.length / d;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + j]!;
    mean /= Math.max(1, n);
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * d + j]! - mean) ** 2;
    const sd = Math.sqrt(variance / Math.max(1, n)) || 1;
    for (let i = 0; i < n; i++) x[i * d + j] = (x[i * d + j]! - mean) / sd;
  }
}

const WRITE_CHUNK = 1_000;

/**
 * Fits the two-model uplift estimator on the project's observations and writes every customer's
 * `uplift_score` (the predicted purchase probability if treated minus if not). With fewer than
 * MIN_UPLIFT_GROUP observations in either group, nothing is written. Returns what it did.
 */
export async function refreshUplift(d1: D1Database, projectId: string, now = Date.now()) {
  const { results: observations } = await d1
    .prepare(
      `${observationsSql}
       SELECT obs.treated, ${converted} AS converted,
         (SELECT COUNT(*) FROM transactions t WHERE t.project_id = ?1 AND t.customer_id = obs.customer_id AND t.is_return = 0 AND t.ordered_at <= obs.t0) AS frequency,
         (SELECT COALESCE(SUM(t.amount_cents), 0) FROM transactions t WHERE t.project_id = ?1 AND t.customer_id = obs.customer_id AND t.ordered_at <= obs.t0) AS monetary_cents,
         (SELECT (obs.t0 - MAX(t.ordered_at)) / ${DAY_MS}.0 FROM transactions t WHERE t.project_id = ?1 AND t.customer_id = obs.customer_id AND t.is_return = 0 AND t.ordered_at <= obs.t0) AS recency_days
       FROM obs`,
    )
    .bind(projectId, now)
    .all<FeatureRow & { treated: number; converted: number }>();
  const treated = observations.filter((o) => o.treated === 1).length;
  const control = observations.length - treated;
  if (treated < MIN_UPLIFT_GROUP || control < MIN_UPLIFT_GROUP) return { scored: 0, treated, control };

  const { results: population } = await d1
    .prepare(
      `SELECT customer_id, frequency, monetary_cents, (?2 - last_purchase_at) / ${DAY_MS}.0 AS recency_days FROM customers WHERE project_id = ?1 ORDER BY customer_id`,
    )
    .bind(projectId, now)
    .all<FeatureRow & { customer_id: string }>();
  // Each set is standardized on its own: the model learns from where a customer stood among the
  // campaign's audience, and scores where they stand among today's customers (the raw scales drift
  // with time: recency measured now is longer than at the run).
  const observed = featureMatrix(observations);
  const everyone = featureMatrix(population);
  standardize(observed, 3);
  standardize(everyone, 3);
  const scores = upliftScores(
    { features: observed, treated: observations.map((o) => o.treated), converted: observations.map((o) => o.converted) },
    everyone,
    3,
    { minGroup: MIN_UPLIFT_GROUP },
  );
  if (!scores) return { scored: 0, treated, control };
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < population.length; start += WRITE_CHUNK) {
    const rows = population.slice(start, start + WRITE_CHUNK).map((c, k) => [c.customer_id, Math.round(scores[start + k]! * 1e6) / 1e6]);
    statements.push(
      d1
        .prepare(
          `WITH u AS MATERIALIZED (SELECT value ->> 0 AS customer_id, value ->> 1 AS score FROM json_each(?2))
           UPDATE customers SET uplift_score = u.score FROM u WHERE customers.project_id = ?1 AND customers.customer_id = u.customer_id`,
        )
        .bind(projectId, JSON.stringify(rows)),
    );
  }
  for (let i = 0; i < statements.length; i += 20) await d1.batch(statements.slice(i, i + 20));
  return { scored: population.length, treated, control };
}

/** The daily refit runs at this UTC hour (from the per-minute Cron Trigger). */
export const DAILY_REFIT_HOUR = 3;

/**
 * Once a day: projects with a run whose outcome window closed in the last two days are refitted, so
 * scores appear when outcomes are complete even if no model run follows. (After model runs they are
 * refitted anyway.)
 */
export async function refitClosedWindows(d1: D1Database, at: Date) {
  if (at.getUTCHours() !== DAILY_REFIT_HOUR || at.getUTCMinutes() !== 0) return [];
  const now = at.getTime();
  const { results } = await d1
    .prepare(
      `SELECT DISTINCT r.project_id FROM automation_runs r JOIN automations a ON a.id = r.automation_id
       WHERE r.status IN ('success', 'partial') AND r.finished_at + a.outcome_window_days * ${DAY_MS} BETWEEN ?1 AND ?2`,
    )
    .bind(now - 2 * DAY_MS, now)
    .all<{ project_id: string }>();
  for (const { project_id } of results) await refreshUplift(d1, project_id, now);
  return results.map((r) => r.project_id);
}
