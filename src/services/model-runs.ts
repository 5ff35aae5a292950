import { and, eq, inArray, notInArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { automations, segments } from "../db/schema";
import { CustomerColumnsBuilder, type CustomerColumns } from "../engine/customer-columns";
import type { RfmPosition } from "../engine/labels";
import type { CustomerAggregate } from "../engine/rfm";
import type { CustomerProfile, CustomerScorer, PreviousCluster, SegmentationModel } from "../engine/segmentation";
import type { JobRecord } from "./jobs";
import { segmentMemberScope } from "./segments";
import { storedExtraFeatures } from "../db/stored-json";

/**
 * The storage side of a model run (the segmentation consumer orchestrates, the engine computes):
 * customers read a page at a time, cluster segments and profiles written, the run's checkpoint, and
 * the rule-segment recount and membership snapshot that follow a run.
 */

/** Customers read per query: a page of aggregates is a few MB of rows, whatever the project's size. */
export const CUSTOMER_PAGE = 10_000;
/** Profile rows written per statement, as one JSON parameter (well under D1's 2 MB per value). */
const WRITE_CHUNK = 500;

/**
 * What a run needs to resume after a crash: the fitted model, the segment id of each cluster, the
 * time its profiles are stamped with, and how far it has written (the last customer_id, in order).
 */
export type ModelRunCheckpoint = {
  model: SegmentationModel;
  clusterIds: string[];
  profiledAt: number;
  /** customers the model was fitted on */
  customers: number;
  after: string;
  written: number;
  scorer: CustomerScorer["progress"];
};

export async function countCustomers(d1: D1Database, projectId: string): Promise<number> {
  const { n } = (await d1.prepare("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?").bind(projectId).first<{ n: number }>())!;
  return n;
}

/** Customers after `after` (by customer_id), at most `limit`. */
export async function readCustomerPage(d1: D1Database, projectId: string, after: string, limit = CUSTOMER_PAGE): Promise<CustomerAggregate[]> {
  const { results } = await d1
    .prepare(
      `SELECT customer_id, first_purchase_at, last_purchase_at, last_transaction_at, frequency, purchase_days, monetary_cents, return_rate, extra_features
       FROM customers WHERE project_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`,
    )
    .bind(projectId, after, limit)
    .all<Record<string, any>>();
  return results.map((r) => ({
    customerId: r.customer_id,
    firstPurchaseAt: r.first_purchase_at,
    lastPurchaseAt: r.last_purchase_at,
    lastTransactionAt: r.last_transaction_at,
    frequency: r.frequency,
    purchaseDays: r.purchase_days,
    monetaryCents: r.monetary_cents,
    returnRate: r.return_rate,
    extraFeatures: r.extra_features ? storedExtraFeatures(r.extra_features) : null,
  }));
}

/**
 * Every customer of the project as columns of numbers, read a page at a time: the rows of one page
 * are garbage once added, so memory holds the columns (~44 bytes a customer) and one page.
 * `expected` (the count) sizes the columns; customers added meanwhile are taken too.
 */
export async function readCustomerColumns(
  d1: D1Database,
  projectId: string,
  { expected, pageSize = CUSTOMER_PAGE, onPage }: { expected: number; pageSize?: number; onPage?: (read: number) => Promise<unknown> },
): Promise<CustomerColumns> {
  const builder = new CustomerColumnsBuilder(expected);
  let read = 0;
  for (let after = ""; ; ) {
    const page = await readCustomerPage(d1, projectId, after, pageSize);
    for (const customer of page) builder.add(customer);
    read += page.length;
    await onPage?.(read);
    if (page.length < pageSize) return builder.finish();
    after = page.at(-1)!.customerId;
  }
}

/** The project's cluster segments of the last run, to keep their ids and labels. */
export async function previousClusters(db: Database, projectId: string): Promise<PreviousCluster[]> {
  const rows = await db
    .select()
    .from(segments)
    .where(and(eq(segments.projectId, projectId), eq(segments.kind, "cluster")))
    .all();
  return rows.map((s) => ({ id: s.id, label: s.name, position: s.position as RfmPosition }));
}

/**
 * Writes the model's cluster segments (kept ids updated, new ones inserted, those the model no longer
 * finds removed), then the checkpoint that lets the run write profiles. A crash between the two is
 * harmless: the retry fits again and matches its clusters to the segments just written, keeping them.
 * What used a removed cluster is told, in the same batch (see `droppedClusterStatements`).
 */
export async function saveFittedModel(d1: D1Database, db: Database, job: JobRecord, checkpoint: ModelRunCheckpoint) {
  const now = new Date(checkpoint.profiledAt);
  const ids = checkpoint.clusterIds;
  const upserts = checkpoint.model.clusters.map((cluster, i) =>
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
  const staleScope = and(eq(segments.projectId, job.projectId), eq(segments.kind, "cluster"), ...(ids.length ? [notInArray(segments.id, ids)] : []));
  const dropped = await db.select({ id: segments.id, name: segments.name }).from(segments).where(staleScope).all();
  await db.batch([db.delete(segments).where(staleScope), ...droppedClusterStatements(db, job.projectId, dropped, now), ...upserts]);
  await checkpointStatement(d1, job.id, checkpoint).run();
}

/**
 * A run that no longer finds a cluster removes its segment, but must not leave what used it pointing at
 * nothing silently: automations on that cluster, or on a hybrid segment narrowing it, are paused with a
 * `status_reason` (which frees their place in the automations quota: delivering to an audience the model
 * dissolved would retract everyone from it), and hybrid segments on it are marked `cluster_missing_at`
 * (they have no members until pointed elsewhere or deleted).
 */
function droppedClusterStatements(db: Database, projectId: string, dropped: Array<{ id: string; name: string }>, now: Date) {
  const day = now.toISOString().slice(0, 10);
  return dropped.flatMap((cluster) => {
    const hybrids = db.select({ id: segments.id }).from(segments).where(and(eq(segments.projectId, projectId), eq(segments.clusterSegmentId, cluster.id)));
    const gone = `the model run of ${day} no longer finds the cluster segment "${cluster.name}" (${cluster.id})`;
    return [
      db
        .update(automations)
        .set({ status: "paused", statusReason: `${gone}; choose another segment to activate it again`, updatedAt: now })
        .where(and(eq(automations.projectId, projectId), eq(automations.segmentId, cluster.id))),
      db
        .update(automations)
        .set({ status: "paused", statusReason: `${gone}, which its hybrid segment narrows; choose another segment to activate it again`, updatedAt: now })
        .where(and(eq(automations.projectId, projectId), inArray(automations.segmentId, hybrids))),
      db
        .update(segments)
        .set({ clusterMissingAt: now, size: 0, updatedAt: now })
        .where(and(eq(segments.projectId, projectId), eq(segments.clusterSegmentId, cluster.id))),
    ];
  });
}

/**
 * Writes a page of profiles (customers in customer_id order, with their profiles) and moves the
 * checkpoint past them, in one transaction: a retried run never skips a page nor counts one twice.
 */
export async function saveProfilePage(d1: D1Database, job: JobRecord, checkpoint: ModelRunCheckpoint, page: Array<{ customerId: string; profile: CustomerProfile }>) {
  const { model, clusterIds, profiledAt } = checkpoint;
  const statements = [checkpointStatement(d1, job.id, checkpoint)];
  for (let start = 0; start < page.length; start += WRITE_CHUNK) {
    const rows = page.slice(start, start + WRITE_CHUNK).map(({ customerId, profile: p }) => [
      customerId,
      p.recencyDays,
      p.churnScore,
      p.churnRisk,
      p.expectedPurchases90d,
      p.abcCategory,
      clusterIds[p.cluster],
      model.clusters[p.cluster]!.label,
      JSON.stringify(p.embedding),
    ]);
    // MATERIALIZED: otherwise SQLite may loop over the project's customers and re-read the JSON for
    // each (measured: 29 s per statement at 100,000 customers, against 5 ms this way).
    statements.push(
      d1
        .prepare(
          `WITH u AS MATERIALIZED (
             SELECT value ->> 0 AS customer_id, value ->> 1 AS recency, value ->> 2 AS churn, value ->> 3 AS risk, value ->> 4 AS expected,
                    value ->> 5 AS abc, value ->> 6 AS segment_id, value ->> 7 AS label, value ->> 8 AS embedding FROM json_each(?2))
           UPDATE customers SET rfm_recency_days = u.recency, churn_score = u.churn, churn_risk = u.risk, expected_purchases_90d = u.expected,
             abc_category = u.abc, segment_id = u.segment_id, segment_label = u.label, embedding = u.embedding, profiled_at = ?3
           FROM u WHERE customers.project_id = ?1 AND customers.customer_id = u.customer_id`,
        )
        .bind(job.projectId, JSON.stringify(rows), profiledAt),
    );
  }
  await d1.batch(statements);
}

/** Only while the run is still in progress: a job that has finished keeps no checkpoint. */
const checkpointStatement = (d1: D1Database, jobId: string, checkpoint: ModelRunCheckpoint) =>
  d1.prepare("UPDATE jobs SET checkpoint = ?, updated_at = ? WHERE id = ? AND status = 'processing'").bind(JSON.stringify(checkpoint), Date.now(), jobId);

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
