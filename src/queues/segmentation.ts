import { analyticsStore } from "../analytics";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { CustomerScorer, fitSegmentation } from "../engine/segmentation";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { warmPurchaseHistory } from "../services/crm-analytics";
import { completeJobStatement, failJob, findJob, persistProgress, recordAttemptError, reportProgress, startJob } from "../services/jobs";
import {
  countCustomers,
  CUSTOMER_PAGE,
  previousClusters,
  readCustomerColumns,
  readCustomerPage,
  refreshRuleSegmentsAndSnapshot,
  saveFittedModel,
  saveProfilePage,
  type ModelRunCheckpoint,
} from "../services/model-runs";
import { runChangedSegmentAutomations } from "../services/automation-runs";
import { refreshWarehouse } from "../services/sql-query";
import { refreshUplift } from "../services/uplift";
import { warmSimilarityIndex } from "../services/vector-store";
import { consumeCounter } from "../services/usage-counters";
import { consumeDeadLetters, consumeEach, errorText, isPermanentError, publicAttemptError } from "./consumer";
import { SegmentationMessage } from "./messages";

/**
 * The most customers one model run takes. Measured (`npm run bench:engine`, BENCH_LARGE_CUSTOMERS to
 * vary it): heap and typed arrays peak at 90 MB for 500,000 customers and 105 MB for 600,000, which
 * leaves a Worker's 128 MB some room for the runtime. Above the Pro plan's 500,000 profiles; larger
 * (Enterprise) projects are refused with a clear message rather than crashing the isolate.
 */
export const MAX_CUSTOMERS_PER_RUN = 600_000;

export async function handleSegmentationBatch(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) {
  await consumeEach(
    batch,
    SegmentationMessage,
    async (message) => {
      try {
        await runSegmentation(env, message);
      } catch (error) {
        if (!isPermanentError(error)) throw error;
        // Retrying cannot help (a value or statement the database refuses): the run ends now rather than
        // after every retry. The driver's words stay in the log; pages written before stay written and the
        // next run rewrites them.
        console.error(JSON.stringify({ level: "error", queue: "segmentation", jobId: message.jobId, permanent: true, error: errorText(error) }));
        const job = await findJob(database(env.DB), message.jobId);
        if (job && job.status !== "completed" && job.status !== "failed") {
          await failJob(database(env.DB), env, job, "the model run stopped on an internal error that retrying cannot fix");
        }
        return;
      }
      // A run follows every burst of ingest: the moment to bring CRM analytics up to date, off the
      // request path (a million purchase lines take seconds to read).
      ctx.waitUntil(warmPurchaseHistory(env, message.projectId));
      // /similar: the run rewrote the embeddings, which the project's index reads now (1.4 s at 500,000
      // customers alone, 6 s while the warehouse copied the same rows: so first, then the warehouse).
      // The SQL API: the run rewrote the project's profiles, which its warehouse copies now rather than on the next query.
      ctx.waitUntil(warmSimilarityIndex(env, message.projectId).then(() => refreshWarehouse(env, message.organizationId)));
      // Segments may have changed: automations triggered by segment changes run now. A failure here
      // must not fail the model run, which is done; it is logged.
      await runChangedSegmentAutomations(env, message.projectId).catch((error) =>
        console.error(JSON.stringify({ level: "error", message: "segment_change automations failed to start", projectId: message.projectId, error: errorText(error) })),
      );
      // Campaign outcomes whose window has closed refit the uplift model (scores stay null until enough exist).
      await refreshUplift(env.DB, message.projectId).catch((error) =>
        console.error(JSON.stringify({ level: "error", message: "uplift refresh failed", projectId: message.projectId, error: errorText(error) })),
      );
    },
    (message, error) => recordAttemptError(database(env.DB), message.jobId, publicAttemptError(error)),
  );
}

export async function handleSegmentationDeadLetters(batch: MessageBatch<unknown>, env: Bindings) {
  const db = database(env.DB);
  await consumeDeadLetters(batch, SegmentationMessage, async ({ jobId }) => {
    const job = await findJob(db, jobId);
    if (!job || job.status === "completed" || job.status === "failed") return;
    const reason = `gave up after ${job.attempts} attempts: ${job.errorMessage ?? "unknown error"}`;
    await failJob(db, env, job, reason);
  });
}

/**
 * One model run for a project, in two phases that each leave a checkpoint on the job, so a retried
 * run resumes rather than starts over: (1) read the customers a page at a time into columns of
 * numbers, fit the model, write the cluster segments and the model; (2) profile the customers a page
 * at a time from the model and write each page with the checkpoint moved past it. Then the rule
 * segments, today's membership snapshot and trend points (the run's unit of the plan was taken at its start).
 *
 * Memory holds the columns (~44 bytes a customer), the fit's arrays and one page, never every row:
 * 500,000 customers fit a Worker's 128 MB. CPU: about 7 s of engine time at 500,000 customers on the
 * benchmark machine, plus parsing D1's pages; wrangler.toml's `cpu_ms` leaves room, and a run cut
 * short anyway resumes at its last written page.
 */
export async function runSegmentation(env: Bindings, message: SegmentationMessage, { pageSize = CUSTOMER_PAGE } = {}) {
  const db = database(env.DB);
  const job = await findJob(db, message.jobId);
  if (!job || job.status === "completed" || job.status === "failed") return;
  let checkpoint = job.checkpoint as ModelRunCheckpoint | null;
  // From here on new ingests queue a new run rather than joining this one.
  await startJob(db, env, job, checkpoint ? "Resuming: writing profiles" : "Loading customers");
  try {
    // The run takes its unit when it starts, in one statement with the check, so concurrent runs cannot
    // both take the last one; a retry of the same job (attempts > 0) has taken it already.
    if (job.attempts === 0) await consumeCounter(db, env.DB, job.organizationId, "modelRuns");
  } catch (error) {
    if (error instanceof ApiError && error.code === "quota_exceeded") {
      const reason = "the plan's model runs for this month are used up";
      await failJob(db, env, job, reason, { quota: error.detail as Record<string, unknown> });
      return;
    }
    throw error;
  }

  if (!checkpoint) {
    const expected = await countCustomers(env.DB, job.projectId);
    if (expected > MAX_CUSTOMERS_PER_RUN) {
      const reason = `the project has ${expected} customers; a model run takes at most ${MAX_CUSTOMERS_PER_RUN}`;
      await failJob(db, env, job, reason);
      return;
    }
    const columns = await readCustomerColumns(env.DB, job.projectId, {
      expected,
      pageSize,
      onPage: (read) => reportProgress(env, job, "processing", 1 + Math.floor((14 * Math.min(read, expected)) / Math.max(1, expected)), `Loaded ${read} customers`),
    });
    await reportProgress(env, job, "processing", 15, `Modelling ${columns.n} customers`);
    const model = fitSegmentation(columns, { previous: await previousClusters(db, job.projectId) });
    const clusterIds = model.clusters.map((c) => c.segmentId ?? newId());
    checkpoint = { model, clusterIds, profiledAt: Date.now(), customers: columns.n, after: "", written: 0, scorer: new CustomerScorer(model).progress };
    await saveFittedModel(env.DB, db, job, checkpoint);
  }
  await persistProgress(db, job.id, 30, "Writing profiles");

  const scorer = new CustomerScorer(checkpoint.model, checkpoint.scorer);
  // A model of no customers has nothing to profile with (customers who arrived since wait for the run
  // their ingest queued).
  for (let more = checkpoint.model.state !== "empty"; more; ) {
    const customers = await readCustomerPage(env.DB, job.projectId, checkpoint.after, pageSize);
    if (customers.length === 0) break;
    const page = customers.map((c) => ({ customerId: c.customerId, profile: scorer.score(c) }));
    checkpoint = { ...checkpoint, after: customers.at(-1)!.customerId, written: checkpoint.written + page.length, scorer: scorer.progress };
    await saveProfilePage(env.DB, job, checkpoint, page);
    const pct = 30 + Math.floor((55 * Math.min(checkpoint.written, checkpoint.customers)) / Math.max(1, checkpoint.customers));
    await reportProgress(env, job, "processing", pct, `Profiled ${checkpoint.written} of ${checkpoint.customers} customers`);
    more = customers.length === pageSize;
  }

  await reportProgress(env, job, "processing", 85, "Updating segments");
  const sizes = await refreshRuleSegmentsAndSnapshot(env.DB, db, job.projectId, new Date(checkpoint.profiledAt));
  const { model, clusterIds, written } = checkpoint;
  const summary = {
    state: model.state,
    customers: written,
    reference_date: model.referenceDate,
    k: model.clusters.length,
    knee: model.kSelection?.knee ?? null,
    inertia_by_k: model.kSelection?.inertiaByK ?? {},
    silhouette_by_k: model.kSelection?.silhouetteByK ?? {},
    k_selection_sample: model.kSelection?.sampleSize ?? 0,
    silhouette_sample: model.kSelection?.silhouetteSampleSize ?? 0,
    churn_model: model.churnModel,
    churn_note: model.churnNote,
    segments: model.clusters.map((c, i) => ({ id: clusterIds[i], label: c.label, size: c.size, centroid: c.centroid, kept_from_previous_run: c.segmentId !== null })),
    embedding_features: model.embeddingFeatures,
  };
  const done = `Segmented ${written} customers into ${model.clusters.length} segments`;
  await db.batch([completeJobStatement(db, job.id, summary, done)]);
  await reportProgress(env, job, "completed", 100, done);
  await analyticsStore(env).record([
    { organizationId: job.organizationId, type: "model_run", projectId: job.projectId, value: 1 },
    ...sizes.map((s) => ({ organizationId: job.organizationId, type: "segment_size" as const, projectId: job.projectId, detail: s.id, value: s.size })),
  ]);
}
