import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { customers, files, organizations, projects } from "../db/schema";
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
  const limit = plans[await planOf(db, organizationId)].quotas.profiles;
  if (limit === null) return;
  const used = await profilesUsed(db, organizationId);
  if (!withinQuota(limit, used, adding)) throw new ApiError("quota_exceeded", { quota: "profiles", limit, used, adding });
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
