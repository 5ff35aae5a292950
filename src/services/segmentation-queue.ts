import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { jobs } from "../db/schema";
import { config, type Bindings } from "../env";
import { ApiError } from "../errors";
import { assertModelRunQuota } from "./usage-counters";
import { newJob, type JobRecord } from "./jobs";

/**
 * Asks for a segmentation run of the project. Coalesced: while a run is still queued (not yet started),
 * later requests join it instead of queueing another (and get that job back); the partial unique index
 * on jobs makes this safe under concurrency. The message waits a few seconds so a burst of batches
 * lands first.
 */
export async function requestSegmentation(db: Database, env: Bindings, projectId: string, organizationId: string, reason: string): Promise<JobRecord> {
  const job = newJob({ projectId, organizationId, type: "segmentation", status: "queued", message: `Queued: ${reason}` });
  const inserted = await db.insert(jobs).values(job).onConflictDoNothing().returning({ id: jobs.id }).get();
  if (!inserted) {
    const waiting = await db
      .select()
      .from(jobs)
      .where(and(eq(jobs.projectId, projectId), eq(jobs.type, "segmentation"), eq(jobs.status, "queued")))
      .get();
    // The waiting run started between the insert and this read: queue another.
    return waiting ?? requestSegmentation(db, env, projectId, organizationId, reason);
  }
  await env.SEGMENTATION_QUEUE.send(
    { kind: "segmentation", jobId: job.id, projectId, organizationId },
    { delaySeconds: config(env).segmentationDelaySeconds },
  );
  return job;
}

/** What an ingest says about the model run it asked for: the job, or why there is none. */
export type ModelRunRequest = { job_id: string; queued: true } | { job_id: null; queued: false; reason: string; quota: unknown };

/**
 * Asks for a model run after new data, unless the month's runs are used up: then none is queued and
 * the answer says why, so the ingest job's result tells the user their data was not modelled.
 */
export async function requestModelRunAfterIngest(db: Database, env: Bindings, projectId: string, organizationId: string, reason: string): Promise<ModelRunRequest> {
  try {
    await assertModelRunQuota(db, organizationId);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "quota_exceeded")) throw error;
    return { job_id: null, queued: false, reason: "the plan's model runs for this month are used up; the new data is not modelled until more are available", quota: error.detail };
  }
  const job = await requestSegmentation(db, env, projectId, organizationId, reason);
  return { job_id: job.id, queued: true };
}
