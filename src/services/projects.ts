import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { jobs, projects } from "../db/schema";
import type { Bindings } from "../env";
import { PROGRESS_RETENTION_MS } from "../../durable-objects/job-progress";
import { forgetPurchaseHistory } from "./crm-analytics";
import { progressStub } from "./jobs";
import { newProjectId } from "../lib/ids";
import { forgetProjectKeys } from "./api-keys";
import { refreshWarehouse } from "./sql-query";
import { forgetSimilarityIndex } from "./vector-store";
import { pageOf, type PageRequest } from "./paging";

export type ProjectRecord = typeof projects.$inferSelect;

export function publicProject(project: ProjectRecord) {
  return {
    id: project.id,
    organizationId: project.organizationId,
    name: project.name,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}

export async function createProject(db: Database, organizationId: string, name: string) {
  const now = new Date();
  const project: ProjectRecord = { id: newProjectId(), organizationId, name: name.trim(), createdAt: now, updatedAt: now, purchasesVersion: 0, customersVersion: 0, segmentsVersion: 0, embeddingsVersion: 0 };
  await db.insert(projects).values(project);
  return project;
}

export async function listProjects(db: Database, organizationId: string, page: PageRequest) {
  const where = eq(projects.organizationId, organizationId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(projects).where(where).orderBy(asc(projects.createdAt), asc(projects.id)).limit(limit).offset(offset).all(),
    () => db.$count(projects, where),
  );
}

export async function renameProject(db: Database, project: ProjectRecord, name: string) {
  const renamed = (await db
    .update(projects)
    .set({ name: name.trim(), updatedAt: new Date() })
    .where(eq(projects.id, project.id))
    .returning()
    .get())!;
  forgetProjectKeys(project.id);
  return renamed;
}

/**
 * Deletes a project and every stored byte of it. D1 first (its rows, API keys included, go by ON
 * DELETE CASCADE), so the project is gone for every caller at once; then what lives outside D1: its
 * R2 objects (all under `projects/<id>/`), its PurchaseHistory, its rows in the organization's
 * AnalyticsWarehouse, and the live progress of its recent jobs (older progress has already expired). Everything derived from a project outside D1 is
 * removed here, in one place.
 */
export async function deleteProject(db: Database, env: Bindings, project: ProjectRecord) {
  const liveJobs = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.projectId, project.id), or(isNull(jobs.finishedAt), gt(jobs.finishedAt, new Date(Date.now() - PROGRESS_RETENTION_MS - 60_000)))))
    .all();
  await db.delete(projects).where(eq(projects.id, project.id));
  forgetProjectKeys(project.id);
  await deleteR2Prefix(env.FILES, `projects/${project.id}/`);
  await forgetPurchaseHistory(env, project.id);
  await forgetSimilarityIndex(env, project.id);
  for (const job of liveJobs) await progressStub(env, job.id).forget();
  // The organization's warehouse drops the project's rows now rather than at its next query (which
  // would notice the project is gone in D1 and drop them then, so a failure here loses nothing).
  await refreshWarehouse(env, project.organizationId).catch((error: unknown) =>
    console.error(JSON.stringify({ level: "error", at: "deleteProject", projectId: project.id, message: String(error) })),
  );
}

/** Deletes every object under a prefix, a listing page (up to 1,000 keys) per call. */
async function deleteR2Prefix(bucket: R2Bucket, prefix: string) {
  for (;;) {
    const page = await bucket.list({ prefix, limit: 1000 });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    if (!page.truncated) return;
  }
}
