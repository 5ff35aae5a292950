import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { jobs } from "../db/schema";
import { config, type Bindings } from "../env";
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
