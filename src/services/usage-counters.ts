import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageCounters } from "../db/schema";
import { withinQuota } from "../billing/plans";
import { billingStateOf, quotaExceeded, quotaLimit } from "./quotas";
import { thresholdStatements } from "./usage";

/** The calendar month (UTC) a moment falls in: the counters' key on plans without a Stripe cycle. */
export const usagePeriod = (at = new Date()) => at.toISOString().slice(0, 7);

/** The monthly counters, by quota name and column. */
export type CounterQuota = "modelRuns" | "genaiOps";
const counterColumn = { modelRuns: "model_runs", genaiOps: "genai_ops" } as const;

/** The key of the organization's current counting window (see `usageWindow`). */
export async function counterPeriod(db: Database, organizationId: string) {
  return (await billingStateOf(db, organizationId)).window.key;
}

export async function counterUsed(db: Database, organizationId: string, quota: CounterQuota, period?: string) {
  const row = await db
    .select({ modelRuns: usageCounters.modelRuns, genaiOps: usageCounters.genaiOps })
    .from(usageCounters)
    .where(sql`${usageCounters.organizationId} = ${organizationId} AND ${usageCounters.period} = ${period ?? (await counterPeriod(db, organizationId))}`)
    .get();
  return row?.[quota] ?? 0;
}

/**
 * Takes `amount` of a monthly quota, or answers 429 and takes nothing. The check and the increment are
 * one statement (an upsert whose update only happens while the sum fits), so of concurrent requests
 * for the last unit exactly one gets it.
 */
export async function consumeCounter(db: Database, d1: D1Database, organizationId: string, quota: CounterQuota, amount = 1) {
  const { plan, window } = await billingStateOf(db, organizationId);
  const limit = quotaLimit(plan, quota);
  const column = counterColumn[quota];
  if (!withinQuota(limit, 0, amount)) throw quotaExceeded(quota, plan, await counterUsed(db, organizationId, quota, window.key), amount);
  const taken = await d1
    .prepare(
      `INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (organization_id, period) DO UPDATE SET ${column} = usage_counters.${column} + excluded.${column}
       WHERE ?5 IS NULL OR usage_counters.${column} + excluded.${column} <= ?5
       RETURNING ${column} AS used`,
    )
    .bind(organizationId, window.key, quota === "modelRuns" ? amount : 0, quota === "genaiOps" ? amount : 0, limit)
    .first<{ used: number }>();
  if (!taken) throw quotaExceeded(quota, plan, await counterUsed(db, organizationId, quota, window.key), amount);
  const marks = thresholdStatements(d1, organizationId, window.start, [{ metric: quota, used: taken.used, limit }], new Date());
  if (marks.length > 0) await d1.batch(marks);
  return { used: taken.used, limit, period: window.key };
}

/** 429 quota_exceeded when the plan's model runs for this month are used up. */
export async function assertModelRunQuota(db: Database, organizationId: string) {
  const { plan, window } = await billingStateOf(db, organizationId);
  const used = await counterUsed(db, organizationId, "modelRuns", window.key);
  if (!withinQuota(quotaLimit(plan, "modelRuns"), used)) throw quotaExceeded("modelRuns", plan, used, 1);
}
