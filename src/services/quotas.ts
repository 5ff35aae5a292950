import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { automations, files, organizations } from "../db/schema";
import { plans, type PlanId, withinQuota } from "../billing/plans";
import { ApiError } from "../errors";

export async function planOf(db: Database, organizationId: string): Promise<PlanId> {
  const org = await db.select({ plan: organizations.plan }).from(organizations).where(eq(organizations.id, organizationId)).get();
  return org?.plan ?? "free";
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

export async function assertRowsQuota(db: Database, organizationId: string, adding: number) {
  const limit = plans[await planOf(db, organizationId)].quotas.rows;
  const used = await rowsUsed(db, organizationId);
  if (!withinQuota(limit, used, adding)) throw new ApiError("quota_exceeded", { quota: "rows", limit, used, adding });
}

export async function assertStorageQuota(db: Database, organizationId: string, addingBytes: number) {
  const limit = plans[await planOf(db, organizationId)].quotas.storageBytes;
  const used = await storageUsed(db, organizationId);
  if (!withinQuota(limit, used, addingBytes)) throw new ApiError("quota_exceeded", { quota: "storage", limit, used, adding: addingBytes });
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

/** One more active automation must fit the plan (`exceptAutomationId`: the one being re-activated). */
export async function assertAutomationQuota(db: Database, organizationId: string, exceptAutomationId = "") {
  const limit = plans[await planOf(db, organizationId)].quotas.automations;
  const used = await activeAutomations(db, organizationId, exceptAutomationId);
  if (!withinQuota(limit, used, 1)) throw new ApiError("quota_exceeded", { quota: "automations", limit, used, adding: 1 });
}
