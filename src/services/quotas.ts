import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { automations, customers, files, organizations, projects, subscriptions } from "../db/schema";
import { largerPlan, planRank, plans, planThatLifts, type PlanId, type PlanQuotas, withinQuota } from "../billing/plans";
import { entitledPlan, isLiveStatus, usageWindow, type UsageWindow } from "../billing/entitlement";
import { ApiError } from "../errors";

export type SubscriptionRecord = typeof subscriptions.$inferSelect;

export type BillingState = {
  /** the plan whose quotas apply now */
  plan: PlanId;
  /** the plan granted outside Stripe: free by default, Enterprise by sales, Pro for the demo */
  grantedPlan: PlanId;
  /** the subscription that grants `plan`, else the latest one still live, else the latest one */
  subscription: SubscriptionRecord | null;
  /** where monthly quotas are counted */
  window: UsageWindow;
};

/**
 * The organization's plan and billing window now, from its granted plan and its Stripe subscriptions:
 * the larger plan wins, so a subscription never takes away what sales granted.
 */
export async function billingStateOf(db: Database, organizationId: string, now = new Date()): Promise<BillingState> {
  const rows = await db
    .select({ grantedPlan: organizations.plan, subscription: subscriptions })
    .from(organizations)
    .leftJoin(subscriptions, eq(subscriptions.organizationId, organizations.id))
    .where(eq(organizations.id, organizationId))
    .all();
  const grantedPlan = rows[0]?.grantedPlan ?? "free";
  const all = rows.flatMap((r) => (r.subscription ? [r.subscription] : [])).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  let plan = grantedPlan;
  let entitling: SubscriptionRecord | null = null;
  for (const s of all) {
    const entitled = entitledPlan(s, now);
    if (entitled !== "free" && (!entitling || planRank(entitled) > planRank(entitledPlan(entitling, now)))) entitling = s;
    plan = largerPlan(plan, entitled);
  }
  const subscription = entitling ?? all.find((s) => isLiveStatus(s.status)) ?? all[0] ?? null;
  // A paid subscription's cycle sets the window only while it is what grants the plan.
  const anchor = entitling && plan === entitling.plan ? entitling.currentPeriodStart : null;
  return { plan, grantedPlan, subscription, window: usageWindow(anchor, now) };
}

/** The plan whose quotas apply to the organization now. */
export async function planOf(db: Database, organizationId: string): Promise<PlanId> {
  return (await billingStateOf(db, organizationId)).plan;
}

/** The quotas a 429 can name, and the plan-table entry behind each (storage is in bytes). */
export const quotaNames = ["rows", "profiles", "modelRuns", "genaiOps", "automations", "storage", "teamSeats"] as const;
export type QuotaName = (typeof quotaNames)[number];
const planQuota: Record<QuotaName, keyof PlanQuotas> = {
  rows: "rows",
  profiles: "profiles",
  modelRuns: "modelRuns",
  genaiOps: "genaiOps",
  automations: "automations",
  storage: "storageBytes",
  teamSeats: "teamSeats",
};

export const quotaLimit = (plan: PlanId, quota: QuotaName) => plans[plan].quotas[planQuota[quota]];

/**
 * The 429 for a quota: which quota, what is used, the limit, what the request would add, and the
 * smallest plan that would hold it (null when none does). Distinct from `rate_limited`.
 */
export function quotaExceeded(quota: QuotaName, plan: PlanId, used: number, adding: number) {
  return new ApiError(
    "quota_exceeded",
    { quota, plan, used, limit: quotaLimit(plan, quota), adding, upgrade_to: planThatLifts(planQuota[quota], used + adding, plan) },
  );
}

/** 429 unless `used + adding` fits the organization's current plan. */
export async function assertQuota(db: Database, organizationId: string, quota: QuotaName, used: number, adding = 1) {
  const plan = await planOf(db, organizationId);
  if (!withinQuota(quotaLimit(plan, quota), used, adding)) throw quotaExceeded(quota, plan, used, adding);
}

/** Rows used: the row counts of the organization's completed files (the seed's metering rule). */
export async function rowsUsed(db: Database, organizationId: string, exceptFileId = ""): Promise<number> {
  const row = await db
    .select({ n: sql<number>`COALESCE(SUM(${files.rowCount}), 0)` })
    .from(files)
    .where(and(eq(files.organizationId, organizationId), eq(files.status, "completed"), sql`${files.id} <> ${exceptFileId}`))
    .get();
  return row?.n ?? 0;
}

/** Storage used: the sizes of all the organization's stored files. */
export async function storageUsed(db: Database, organizationId: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`COALESCE(SUM(${files.sizeBytes}), 0)` })
    .from(files)
    .where(eq(files.organizationId, organizationId))
    .get();
  return row?.n ?? 0;
}

/**
 * Claims a file's rows against the quota before the file completes: its row count is written only if,
 * with the completed files and the other files that already claimed theirs, it fits. One statement, so
 * of batches finishing at once for the last rows only those that fit get them. A file that later fails
 * gives its claim back (only completed and processing files count).
 */
export async function claimRows(db: Database, organizationId: string, fileId: string, rowCount: number) {
  const plan = await planOf(db, organizationId);
  const limit = quotaLimit(plan, "rows");
  const others = `SELECT COALESCE(SUM(row_count), 0) FROM files
    WHERE organization_id = ?1 AND id <> ?2 AND (status = 'completed' OR (status = 'processing' AND row_count IS NOT NULL))`;
  const claimed = await db.$client
    .prepare(`UPDATE files SET row_count = ?3 WHERE id = ?2 AND organization_id = ?1 AND (?4 IS NULL OR (${others}) + ?3 <= ?4) RETURNING id`)
    .bind(organizationId, fileId, rowCount, limit)
    .first();
  if (!claimed) {
    const used = await db.$client.prepare(others).bind(organizationId, fileId).raw<[number]>();
    throw quotaExceeded("rows", plan, used[0]?.[0] ?? 0, rowCount);
  }
}

export async function assertRowsQuota(db: Database, organizationId: string, adding: number) {
  await assertQuota(db, organizationId, "rows", await rowsUsed(db, organizationId), adding);
}

/**
 * Storage, checked once the new file's row is written: the organization's files up to it, in the order
 * they were written (rowid), must fit. Of concurrent uploads racing for the last bytes, each sees the
 * ones written before it, so only those that fit in that order pass; the caller removes a refused file.
 */
export async function assertStoredFileFits(db: Database, organizationId: string, fileId: string, sizeBytes: number) {
  const plan = await planOf(db, organizationId);
  const limit = quotaLimit(plan, "storage");
  if (limit === null) return;
  const row = await db.$client
    .prepare("SELECT COALESCE(SUM(size_bytes), 0) AS n FROM files WHERE organization_id = ?1 AND rowid <= (SELECT rowid FROM files WHERE id = ?2)")
    .bind(organizationId, fileId)
    .first<{ n: number }>();
  const through = row?.n ?? 0;
  if (through > limit) throw quotaExceeded("storage", plan, through - sizeBytes, sizeBytes);
}

/** Fails early, before a file is stored, when it cannot fit; `assertStoredFileFits` settles races. */
export async function assertStorageQuota(db: Database, organizationId: string, addingBytes: number) {
  await assertQuota(db, organizationId, "storage", await storageUsed(db, organizationId), addingBytes);
}

/** Profiles used: the customers of all the organization's projects. */
export async function profilesUsed(db: Database, organizationId: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`COUNT(*)` })
    .from(customers)
    .innerJoin(projects, eq(projects.id, customers.projectId))
    .where(eq(projects.organizationId, organizationId))
    .get();
  return row?.n ?? 0;
}

export async function assertProfilesQuota(db: Database, organizationId: string, adding: number) {
  if (adding === 0) return;
  const plan = await planOf(db, organizationId);
  const limit = quotaLimit(plan, "profiles");
  if (limit === null) return; // no count needed when nothing limits it
  const used = await profilesUsed(db, organizationId);
  if (!withinQuota(limit, used, adding)) throw quotaExceeded("profiles", plan, used, adding);
}

/** How many of these customer ids the project does not have yet. */
export async function newCustomerCount(d1: D1Database, projectId: string, customerIds: readonly string[]): Promise<number> {
  const row = await d1
    .prepare(
      `SELECT COUNT(*) AS n FROM (SELECT DISTINCT value AS customer_id FROM json_each(?2)) j
       WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.project_id = ?1 AND c.customer_id = j.customer_id)`,
    )
    .bind(projectId, JSON.stringify(customerIds))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** How many customers a stored file brings that the project does not have yet (before its aggregates are written). */
export async function newCustomersInFile(d1: D1Database, projectId: string, fileId: string): Promise<number> {
  const row = await d1
    .prepare(
      `SELECT COUNT(DISTINCT t.customer_id) AS n FROM transactions t WHERE t.file_id = ?2
         AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.project_id = ?1 AND c.customer_id = t.customer_id)`,
    )
    .bind(projectId, fileId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Active automations of the organization (paused ones do not count against the plan). */
export async function activeAutomations(db: Database, organizationId: string, exceptAutomationId = ""): Promise<number> {
  const row = await db
    .select({ n: sql<number>`COUNT(*)` })
    .from(automations)
    .where(and(eq(automations.organizationId, organizationId), eq(automations.status, "active"), sql`${automations.id} <> ${exceptAutomationId}`))
    .get();
  return row?.n ?? 0;
}

/**
 * Makes an automation active if one more fits the plan, or answers 429 and changes nothing. The count
 * and the change are one statement, so of concurrent activations only those that fit succeed.
 */
export async function activateAutomation(db: Database, organizationId: string, automationId: string) {
  const plan = await planOf(db, organizationId);
  const limit = quotaLimit(plan, "automations");
  const others = sql`(SELECT COUNT(*) FROM automations AS a WHERE a.organization_id = ${organizationId} AND a.status = 'active' AND a.id <> ${automationId})`;
  const activated = await db
    .update(automations)
    // Only the status: the caller stamps updated_at with the rest of its change.
    .set({ status: "active" })
    .where(and(eq(automations.id, automationId), limit === null ? undefined : sql`${others} < ${limit}`))
    .returning({ id: automations.id })
    .get();
  if (!activated) throw quotaExceeded("automations", plan, await activeAutomations(db, organizationId, automationId), 1);
}
