import { and, desc, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { jobs, type JobStatus, type JobType } from "../db/schema";
import type { Bindings } from "../env";
import { newId } from "../lib/ids";
import type { Principal } from "./access";
import type { ProgressEvent, ProgressUpdate } from "../../durable-objects/job-progress";
import { assertCanSee } from "./access";
import { pageOf, type PageRequest } from "./paging";

export type JobRecord = typeof jobs.$inferSelect;

export function publicJob(job: JobRecord) {
  return {
    job_id: job.id,
    type: job.type,
    status: job.status,
    pct: job.pct,
    message: job.message,
    project_id: job.projectId,
    file_id: job.fileId,
    result: (job.result ?? null) as Record<string, unknown> | null,
    error_message: job.errorMessage,
    attempts: job.attempts,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    updated_at: job.updatedAt.toISOString(),
  };
}

export function newJob(input: { projectId: string; organizationId: string; type: JobType; status: JobStatus; fileId?: string | null; message?: string }): JobRecord {
  const now = new Date();
  return {
    id: newId(),
    projectId: input.projectId,
    organizationId: input.organizationId,
    type: input.type,
    status: input.status,
    pct: 0,
    message: input.message ?? null,
    fileId: input.fileId ?? null,
    result: null,
    errorMessage: null,
    attempts: 0,
    checkpoint: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
}

export async function findJob(db: Database, jobId: string) {
  return db.select().from(jobs).where(eq(jobs.id, jobId)).get();
}

/** The project's latest completed model run, whose result holds k, the churn model and the embedding's features. */
export async function lastCompletedRun(db: Database, projectId: string) {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.projectId, projectId), eq(jobs.type, "segmentation"), eq(jobs.status, "completed")))
    .orderBy(desc(jobs.finishedAt))
    .get();
}

/**
 * A job the caller may see: a member's session, or an API key of the job's project. Anything else is
 * 404, so job ids of other tenants cannot be told from ids that do not exist.
 */
export async function jobForPrincipal(db: Database, principal: Principal, jobId: string): Promise<JobRecord> {
  const job = await findJob(db, jobId);
  await assertCanSee(db, principal, job);
  return job!;
}

export const progressStub = (env: Bindings, jobId: string) => env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(jobId));

/** Pushes a live update to the job's Durable Object (and its SSE clients). */
export async function reportProgress(env: Bindings, job: Pick<JobRecord, "id">, status: JobStatus, pct: number, message: string | null) {
  const update: ProgressUpdate = { job_id: job.id, status, pct, message };
  return progressStub(env, job.id).report(update);
}

/** The live progress, or the persisted record once the live state has expired. */
export async function currentProgress(env: Bindings, job: JobRecord): Promise<ProgressUpdate> {
  const live: ProgressEvent | null = await progressStub(env, job.id).latest();
  if (live) return { job_id: live.job_id, status: live.status, pct: live.pct, message: live.message };
  return { job_id: job.id, status: job.status, pct: job.pct, message: job.message };
}

export async function startJob(db: Database, env: Bindings, job: JobRecord, message: string) {
  const now = new Date();
  await db
    .update(jobs)
    .set({ status: "processing", message, attempts: job.attempts + 1, startedAt: job.startedAt ?? now, updatedAt: now, errorMessage: null })
    .where(eq(jobs.id, job.id));
  await reportProgress(env, job, "processing", 1, message);
}

/** Persists a milestone (D1 is written at milestones only; the DO gets every update). */
export async function persistProgress(db: Database, jobId: string, pct: number, message: string) {
  await db.update(jobs).set({ pct, message, updatedAt: new Date() }).where(and(eq(jobs.id, jobId), eq(jobs.status, "processing")));
}

export function completeJobStatement(db: Database, jobId: string, result: Record<string, unknown>, message: string) {
  const now = new Date();
  return db
    .update(jobs)
    .set({ status: "completed", pct: 100, message, result, checkpoint: null, finishedAt: now, updatedAt: now, errorMessage: null })
    .where(eq(jobs.id, jobId));
}

/**
 * Ends a job as failed, in D1 (with `alsoRun`, in one batch) and in its live progress, at the same
 * percentage in both: the point the live progress had reached, so `/status` and `/progress` agree.
 */
export async function failJob(
  db: Database,
  env: Bindings,
  job: JobRecord,
  errorMessage: string,
  result: Record<string, unknown> | null = null,
  alsoRun: BatchItem<"sqlite">[] = [],
) {
  const pct = (await progressStub(env, job.id).latest())?.pct ?? job.pct;
  const now = new Date();
  const fail = db
    .update(jobs)
    .set({ status: "failed", pct, message: errorMessage, errorMessage, checkpoint: null, finishedAt: now, updatedAt: now, ...(result && { result }) })
    .where(eq(jobs.id, job.id));
  await db.batch([fail, ...alsoRun]);
  await reportProgress(env, job, "failed", pct, errorMessage);
}

/** Notes a failed attempt that will be retried; the error stays on the job if it finally fails. */
export async function recordAttemptError(db: Database, jobId: string, errorMessage: string) {
  await db
    .update(jobs)
    .set({ errorMessage, message: "Retrying after an error", updatedAt: new Date() })
    .where(and(eq(jobs.id, jobId), eq(jobs.status, "processing")));
}

/** A project's jobs, newest first, a page at a time. */
export async function listProjectJobs(db: Database, projectId: string, query: PageRequest & { type?: JobType; status?: JobStatus }) {
  const where = and(eq(jobs.projectId, projectId), query.type && eq(jobs.type, query.type), query.status && eq(jobs.status, query.status));
  const page = await pageOf(
    query,
    (limit, offset) => db.select().from(jobs).where(where).orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(limit).offset(offset).all(),
    () => db.$count(jobs, where),
  );
  return {
    jobs: page.items.map((job) => ({
      job_id: job.id,
      type: job.type,
      status: job.status,
      file_id: job.fileId,
      error_message: job.errorMessage,
      created_at: job.createdAt.toISOString(),
      finished_at: job.finishedAt?.toISOString() ?? null,
    })),
    total: page.total,
    page: page.page,
    pages: page.pages,
  };
}
