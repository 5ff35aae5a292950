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
