import { and, eq, inArray, notInArray } from "drizzle-orm";
import { analyticsStore } from "../analytics";
import { database, type Database } from "../db/client";
import { jobs, segments } from "../db/schema";
import type { Bindings } from "../env";
import { segmentCustomers, type SegmentationResult } from "../engine/segmentation";
import type { CustomerAggregate } from "../engine/rfm";
import type { RfmPosition } from "../engine/labels";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { warmPurchaseHistory } from "../services/crm-analytics";
import { segmentMemberScope } from "../services/segments";
import { runChangedSegmentAutomations } from "../services/automation-runs";
import { refreshUplift } from "../services/uplift";
import { completeJobStatement, failJobStatement, persistProgress, recordAttemptError, reportProgress, startJob, type JobRecord } from "../services/jobs";
import { assertModelRunQuota, countModelRun } from "../services/usage-counters";
import { consumeDeadLetters, consumeEach, errorText } from "./consumer";
import { SegmentationMessage } from "./messages";

/**
 * The most customers one model run takes. Measured: 50,000 customers need about 65 MB of heap and a
 * second of CPU; past this the 128 MB isolate limit comes into view, so larger projects are refused
 * with a clear message rather than crashing (splitting a run across invocations is future work).
 */
export const MAX_CUSTOMERS_PER_RUN = 150_000;
/** Customers read per query, and profile rows written per statement (as one JSON parameter). */
const READ_PAGE = 10_000;
const WRITE_CHUNK = 500;
const STATEMENTS_PER_BATCH = 20;

export async function handleSegmentationBatch(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) {
  await consumeEach(
    batch,
    SegmentationMessage,
    async (message) => {
      await runSegmentation(env, message);
      // A run follows every burst of ingest: the moment to bring CRM analytics up to date, off the
      // request path (a million purchase lines take seconds to read).
      ctx.waitUntil(warmPurchaseHistory(env, message.projectId));
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
    (message, error) => recordAttemptError(database(env.DB), message.jobId, errorText(error)),
  );
}

export async function handleSegmentationDeadLetters(batch: MessageBatch<unknown>, env: Bindings) {
  const db = database(env.DB);
  await consumeDeadLetters(batch, SegmentationMessage, async ({ jobId }) => {
    const job = await db.select().from(jobs).where(eq(jobs.id, jobId)).get();
    if (!job || job.status === "completed" || job.status === "failed") return;
    const reason = `gave up after ${job.attempts} attempts: ${job.errorMessage ?? "unknown error"}`;
    await db.batch([failJobStatement(db, jobId, reason)]);
    await reportProgress(env, job, "failed", job.pct, reason);
  });
}

/**
 * One model run for a project: read the customer aggregates, run the engine, write profiles, cluster
 * segments, rule-segment sizes, today's membership snapshot and trend points, and count the run.
 * Rerunning after a crash rewrites the same things.
 */
export async function runSegmentation(env: Bindings, message: SegmentationMessage) {
  const db = database(env.DB);
  const job = await db.select().from(jobs).where(eq(jobs.id, message.jobId)).get();
  if (!job || job.status === "completed" || job.status === "failed") return;
  // From here on new ingests queue a new run rather than joining this one.
  await startJob(db, env, job, "Loading customers");
  try {
    await assertModelRunQuota(db, job.organizationId);
  } catch (error) {
    if (error instanceof ApiError && error.code === "quota_exceeded") {
      const reason = "the plan's model runs for this month are used up";
      await db.batch([failJobStatement(db, job.id, reason, { quota: error.detail as Record<string, unknown> })]);
      await reportProgress(env, job, "failed", 0, reason);
      return;
    }
    throw error;
  }

  const { n: customerCount } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?").bind(job.projectId).first<{ n: number }>())!;
  if (customerCount > MAX_CUSTOMERS_PER_RUN) {
    const reason = `the project has ${customerCount} customers; a model run takes at most ${MAX_CUSTOMERS_PER_RUN} for now`;
    await db.batch([failJobStatement(db, job.id, reason)]);
    await reportProgress(env, job, "failed", 0, reason);
    return;
  }
  const customers = await loadAggregates(env.DB, job.projectId);
  await reportProgress(env, job, "processing", 15, `Modelling ${customers.length} customers`);
  const previous = await db
    .select()
    .from(segments)
    .where(and(eq(segments.projectId, job.projectId), eq(segments.kind, "cluster")))
    .all();
  const result = segmentCustomers(customers, {
    previous: previous.map((s) => ({ id: s.id, label: s.name, position: s.position as RfmPosition })),
  });
  await reportProgress(env, job, "processing", 60, "Writing profiles");
  await persistProgress(db, job.id, 60, "Writing profiles");

  const now = new Date();
  const clusterIds = result.clusters.map((c) => c.segmentId ?? newId());
  await writeClusterSegments(db, job, result, clusterIds, now);
  await writeProfiles(env.DB, job.projectId, customers, result, clusterIds, now.getTime());
  await reportProgress(env, job, "processing", 85, "Updating segments");
  const sizes = await refreshRuleSegmentsAndSnapshot(env.DB, db, job.projectId, now);

  const summary = {
    state: result.state,
    customers: customers.length,
    reference_date: result.referenceDate,
    k: result.clusters.length,
    knee: result.kSelection?.knee ?? null,
    inertia_by_k: result.kSelection?.inertiaByK ?? {},
    silhouette_by_k: result.kSelection?.silhouetteByK ?? {},
    k_selection_sample: result.kSelection?.sampleSize ?? 0,
    silhouette_sample: result.kSelection?.silhouetteSampleSize ?? 0,
    churn_model: result.churnModel,
    churn_note: result.churnNote,
    segments: result.clusters.map((c, i) => ({ id: clusterIds[i], label: c.label, size: c.size, centroid: c.centroid, kept_from_previous_run: c.segmentId !== null })),
    embedding_features: result.embeddingFeatures,
  };
  await countModelRun(db, job.organizationId);
  await db.batch([completeJobStatement(db, job.id, summary, `Segmented ${customers.length} customers into ${result.clusters.length} segments`)]);
  await reportProgress(env, job, "completed", 100, `Segmented ${customers.length} customers into ${result.clusters.length} segments`);
  await analyticsStore(env).record([
    { organizationId: job.organizationId, type: "model_run", projectId: job.projectId, value: 1 },
    ...sizes.map((s) => ({ organizationId: job.organizationId, type: "segment_size" as const, projectId: job.projectId, detail: s.id, value: s.size })),
  ]);
}

async function loadAggregates(d1: D1Database, projectId: string): Promise<CustomerAggregate[]> {
  const customers: CustomerAggregate[] = [];
  let after = "";
  for (;;) {
    const { results } = await d1
      .prepare(
        `SELECT customer_id, first_purchase_at, last_purchase_at, last_transaction_at, frequency, purchase_days, monetary_cents, return_rate, extra_features
         FROM customers WHERE project_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`,
      )
      .bind(projectId, after, READ_PAGE)
      .all<Record<string, any>>();
    for (const r of results) {
      customers.push({
        customerId: r.customer_id,
        firstPurchaseAt: r.first_purchase_at,
        lastPurchaseAt: r.last_purchase_at,
        lastTransactionAt: r.last_transaction_at,
        frequency: r.frequency,
        purchaseDays: r.purchase_days,
        monetaryCents: r.monetary_cents,
        returnRate: r.return_rate,
        extraFeatures: r.extra_features ? JSON.parse(r.extra_features) : null,
      });
    }
    if (results.length < READ_PAGE) return customers;
    after = results.at(-1)!.customer_id;
  }
}

/** Cluster segments: kept ids updated, new ones inserted, those the model no longer finds removed. */
async function writeClusterSegments(db: Database, job: JobRecord, result: SegmentationResult, ids: string[], now: Date) {
  const statements = result.clusters.map((cluster, i) =>
    db
      .insert(segments)
      .values({
        id: ids[i]!,
        projectId: job.projectId,
        organizationId: job.organizationId,
        kind: "cluster",
        name: cluster.label,
        description: cluster.description,
        size: cluster.size,
        centroid: cluster.centroid,
        position: cluster.position,
        lastComputedAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: segments.id,
        set: { size: cluster.size, centroid: cluster.centroid, position: cluster.position, lastComputedAt: now, updatedAt: now },
      }),
  );
  const stale = ids.length
    ? db.delete(segments).where(and(eq(segments.projectId, job.projectId), eq(segments.kind, "cluster"), notInArray(segments.id, ids)))
    : db.delete(segments).where(and(eq(segments.projectId, job.projectId), inArray(segments.kind, ["cluster"])));
  await db.batch([stale, ...statements]);
}

async function writeProfiles(d1: D1Database, projectId: string, customers: CustomerAggregate[], result: SegmentationResult, clusterIds: string[], now: number) {
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < customers.length; start += WRITE_CHUNK) {
    const rows = customers.slice(start, start + WRITE_CHUNK).map((c, offset) => {
      const p = result.profiles[start + offset]!;
      return [c.customerId, p.recencyDays, p.churnScore, p.churnRisk, p.expectedPurchases90d, p.abcCategory, clusterIds[p.cluster], result.clusters[p.cluster]!.label, JSON.stringify(p.embedding)];
    });
    statements.push(
      d1
        .prepare(
          // MATERIALIZED: otherwise SQLite may loop over the project's customers and re-read the JSON for
          // each (measured: 29 s per statement at 100,000 customers, against 5 ms this way).
          `WITH u AS MATERIALIZED (
             SELECT value ->> 0 AS customer_id, value ->> 1 AS recency, value ->> 2 AS churn, value ->> 3 AS risk, value ->> 4 AS expected,
                    value ->> 5 AS abc, value ->> 6 AS segment_id, value ->> 7 AS label, value ->> 8 AS embedding FROM json_each(?2))
           UPDATE customers SET rfm_recency_days = u.recency, churn_score = u.churn, churn_risk = u.risk, expected_purchases_90d = u.expected,
             abc_category = u.abc, segment_id = u.segment_id, segment_label = u.label, embedding = u.embedding, profiled_at = ?3
           FROM u WHERE customers.project_id = ?1 AND customers.customer_id = u.customer_id`,
        )
        .bind(projectId, JSON.stringify(rows), now),
    );
  }
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH) await d1.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
}

/** Member-level snapshots are kept this long (overlap needs only the latest; trends use daily sizes). */
const MEMBERSHIP_RETENTION_DAYS = 35;

/**
 * Recounts rule and hybrid segments and rewrites today's (UTC) snapshot for every segment of the
 * project: members, sizes and pairwise overlaps; prunes member snapshots past the retention. Returns
 * each segment's size for the trend points.
 */
export async function refreshRuleSegmentsAndSnapshot(d1: D1Database, db: Database, projectId: string, now: Date) {
  const day = now.toISOString().slice(0, 10);
  const oldest = new Date(now.getTime() - MEMBERSHIP_RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10);
  const all = await db.select().from(segments).where(eq(segments.projectId, projectId)).all();
  const statements: D1PreparedStatement[] = [
    d1.prepare("DELETE FROM segment_membership_snapshots WHERE project_id = ? AND (snapshot_date = ? OR snapshot_date < ?)").bind(projectId, day, oldest),
    d1.prepare("DELETE FROM segment_daily_sizes WHERE project_id = ? AND day = ?").bind(projectId, day),
    d1.prepare("DELETE FROM segment_overlaps WHERE project_id = ? AND day = ?").bind(projectId, day),
    d1
      .prepare(
        `INSERT OR IGNORE INTO segment_membership_snapshots (project_id, snapshot_date, segment_id, customer_id)
         SELECT project_id, ?2, segment_id, customer_id FROM customers WHERE project_id = ?1 AND segment_id IS NOT NULL`,
      )
      .bind(projectId, day),
  ];
  const sizes: Array<{ id: string; size: number }> = [];
  for (const segment of all) {
    if (segment.kind === "cluster") {
      sizes.push({ id: segment.id, size: segment.size });
      continue;
    }
    const where = segmentMemberScope(segment);
    const count = await d1.prepare(`SELECT COUNT(*) AS n FROM customers WHERE ${where.sql}`).bind(...where.params).first<{ n: number }>();
    sizes.push({ id: segment.id, size: count?.n ?? 0 });
    statements.push(
      d1.prepare("UPDATE segments SET size = ?, last_computed_at = ? WHERE id = ?").bind(count?.n ?? 0, now.getTime(), segment.id),
      d1
        .prepare(`INSERT OR IGNORE INTO segment_membership_snapshots (project_id, snapshot_date, segment_id, customer_id) SELECT ?, ?, ?, customer_id FROM customers WHERE ${where.sql}`)
        .bind(projectId, day, segment.id, ...where.params),
    );
  }
  statements.push(
    d1
      .prepare("INSERT INTO segment_daily_sizes (project_id, segment_id, day, size) SELECT ?1, value ->> 0, ?2, value ->> 1 FROM json_each(?3)")
      .bind(projectId, day, JSON.stringify(sizes.map((s) => [s.id, s.size]))),
    d1
      .prepare(
        `INSERT INTO segment_overlaps (project_id, day, segment_a_id, segment_b_id, overlap)
         SELECT ?1, ?2, a.segment_id, b.segment_id, COUNT(*) FROM segment_membership_snapshots a
         JOIN segment_membership_snapshots b ON b.project_id = a.project_id AND b.snapshot_date = a.snapshot_date
           AND b.customer_id = a.customer_id AND b.segment_id > a.segment_id
         WHERE a.project_id = ?1 AND a.snapshot_date = ?2
         GROUP BY a.segment_id, b.segment_id`,
      )
      .bind(projectId, day),
  );
  await d1.batch(statements);
  return sizes;
}
