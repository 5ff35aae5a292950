import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageCounters } from "../db/schema";
import { plans, withinQuota } from "../billing/plans";
import { ApiError } from "../errors";
import { planOf } from "./quotas";

/** The billing month a moment falls in (UTC), as the counters key it. */
export const usagePeriod = (at = new Date()) => at.toISOString().slice(0, 7);

export async function modelRunsUsed(db: Database, organizationId: string, period = usagePeriod()) {
  const row = await db
    .select({ n: usageCounters.modelRuns })
    .from(usageCounters)
    .where(sql`${usageCounters.organizationId} = ${organizationId} AND ${usageCounters.period} = ${period}`)
    .get();
  return row?.n ?? 0;
}

/** 429 quota_exceeded when the plan's model runs for this month are used up. */
export async function assertModelRunQuota(db: Database, organizationId: string) {
  const limit = plans[await planOf(db, organizationId)].quotas.modelRuns;
  const used = await modelRunsUsed(db, organizationId);
  if (!withinQuota(limit, used)) throw new ApiError("quota_exceeded", { quota: "modelRuns", limit, used });
}

export async function countModelRun(db: Database, organizationId: string) {
  await db
    .insert(usageCounters)
    .values({ organizationId, period: usagePeriod(), modelRuns: 1, genaiOps: 0 })
    .onConflictDoUpdate({ target: [usageCounters.organizationId, usageCounters.period], set: { modelRuns: sql`${usageCounters.modelRuns} + 1` } });
}

export async function genaiOpsUsed(d1: D1Database, organizationId: string, period = usagePeriod()) {
  const row = await d1.prepare("SELECT genai_ops FROM usage_counters WHERE organization_id = ? AND period = ?").bind(organizationId, period).first<{ genai_ops: number }>();
  return row?.genai_ops ?? 0;
}

/**
 * Takes one GenAI op of this month's quota, or answers 429 quota_exceeded (quota `genaiOps`). The
 * check and the increment are one statement (an upsert whose update only applies below the limit), so
 * concurrent calls cannot both take the last op.
 */
export async function takeGenaiOp(db: Database, d1: D1Database, organizationId: string) {
  const limit = plans[await planOf(db, organizationId)].quotas.genaiOps;
  const period = usagePeriod();
  const refuse = async () => {
    throw new ApiError("quota_exceeded", { quota: "genaiOps", limit, used: await genaiOpsUsed(d1, organizationId, period) });
  };
  if (!withinQuota(limit, 0)) return refuse();
  const taken = await d1
    .prepare(
      `INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?1, ?2, 0, 1)
       ON CONFLICT (organization_id, period) DO UPDATE SET genai_ops = genai_ops + 1 WHERE ?3 IS NULL OR genai_ops < ?3
       RETURNING genai_ops`,
    )
    .bind(organizationId, period, limit)
    .first<{ genai_ops: number }>();
  if (!taken) return refuse();
}
