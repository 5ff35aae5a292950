import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { automations, segments, type SegmentKind } from "../db/schema";
import { ApiError, invalidField } from "../errors";
import { newId } from "../lib/ids";
import type { Principal } from "./access";
import { CUSTOMER_COLUMNS, customerScope, publicCustomer, type CustomerRow } from "./customers";
import type { Condition } from "./customer-filters";
import { assertCanSee } from "./access";
import { pageOf, type PageRequest } from "./paging";
// A cycle (model-runs reads segmentMemberScope from here), safe as both are only called, never run at load.
import { refreshRuleSegmentsAndSnapshot } from "./model-runs";

export type SegmentRecord = typeof segments.$inferSelect;

export function publicSegment(segment: SegmentRecord) {
  return {
    id: segment.id,
    project_id: segment.projectId,
    name: segment.name,
    kind: segment.kind,
    description: segment.description,
    size: segment.size,
    centroid: (segment.centroid ?? null) as Record<string, number> | null,
    rules: (segment.rules ?? null) as Condition[] | null,
    cluster_segment_id: segment.clusterSegmentId,
    cluster_segment_missing: segment.clusterMissingAt !== null,
    last_computed_at: segment.lastComputedAt?.toISOString() ?? null,
    created_at: segment.createdAt.toISOString(),
    updated_at: segment.updatedAt.toISOString(),
  };
}

/** A WHERE clause over customers selecting a segment's current members. */
export function segmentMemberScope(segment: Pick<SegmentRecord, "id" | "projectId" | "kind" | "rules" | "clusterSegmentId">) {
  if (segment.kind === "cluster") return { sql: "customers.project_id = ? AND customers.segment_id = ?", params: [segment.projectId, segment.id] as unknown[] };
  return customerScope(segment.projectId, (segment.rules ?? []) as Condition[], segment.clusterSegmentId);
}

/** Every segment of a project (a project has at most 10 cluster segments and its own rule segments). */
export async function projectSegments(db: Database, projectId: string) {
  return db.select().from(segments).where(eq(segments.projectId, projectId)).orderBy(asc(segments.kind), asc(segments.createdAt)).all();
}

/** Cluster segments first, then rule and hybrid ones, oldest first. */
export async function listSegments(db: Database, projectId: string, page: PageRequest) {
  const where = eq(segments.projectId, projectId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(segments).where(where).orderBy(asc(segments.kind), asc(segments.createdAt), asc(segments.id)).limit(limit).offset(offset).all(),
    () => db.$count(segments, where),
  );
}

export async function segmentForPrincipal(db: Database, principal: Principal, segmentId: string): Promise<SegmentRecord> {
  const segment = await db.select().from(segments).where(eq(segments.id, segmentId)).get();
  await assertCanSee(db, principal, segment);
  return segment!;
}

/** The cluster a hybrid segment narrows must be a cluster segment of the same project (else 400). */
async function assertCluster(db: Database, projectId: string, clusterSegmentId: string | null | undefined) {
  if (!clusterSegmentId) return;
  const cluster = await db
    .select({ id: segments.id })
    .from(segments)
    .where(and(eq(segments.id, clusterSegmentId), eq(segments.projectId, projectId), eq(segments.kind, "cluster")))
    .get();
  if (!cluster) {
    throw invalidField("cluster_segment_id", "invalid_value", "not a cluster segment of this project");
  }
}

/** How many customers match, and the first few (by monetary value). */
export async function previewSegment(d1: D1Database, db: Database, projectId: string, rules: Condition[], clusterSegmentId?: string | null, sampleSize = 20) {
  await assertCluster(db, projectId, clusterSegmentId);
  const where = customerScope(projectId, rules, clusterSegmentId);
  const [count, sample] = await d1.batch<{ n: number } | CustomerRow>([
    d1.prepare(`SELECT COUNT(*) AS n FROM customers WHERE ${where.sql}`).bind(...where.params),
    d1
      .prepare(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE ${where.sql} ORDER BY customers.monetary_cents DESC, customers.customer_id LIMIT ?`)
      .bind(...where.params, sampleSize),
  ]);
  return {
    count: (count!.results[0] as { n: number }).n,
    sample: await Promise.all((sample!.results as CustomerRow[]).map(publicCustomer)),
  };
}

export async function createRuleSegment(
  d1: D1Database,
  db: Database,
  project: { id: string; organizationId: string },
  input: { name: string; rules: Condition[]; cluster_segment_id?: string | null; description?: string },
) {
  const { count } = await previewSegment(d1, db, project.id, input.rules, input.cluster_segment_id, 0);
  const now = new Date();
  const kind: SegmentKind = input.cluster_segment_id ? "hybrid" : "rule";
  const segment: SegmentRecord = {
    id: newId(),
    projectId: project.id,
    organizationId: project.organizationId,
    kind,
    name: input.name.trim(),
    description: input.description ?? null,
    rules: input.rules,
    clusterSegmentId: input.cluster_segment_id ?? null,
    clusterMissingAt: null,
    size: count,
    centroid: null,
    position: null,
    lastComputedAt: now,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(segments).values(segment);
  await refreshMembership(d1, db, project.id);
  return segment;
}

/**
 * A segment created, deleted or given new rules changes today's membership snapshot, daily sizes and
 * overlaps (and the warehouse copies them, the segments version having moved): rewritten as a model run
 * does, so overlap never counts members a segment no longer has.
 */
async function refreshMembership(d1: D1Database, db: Database, projectId: string) {
  await refreshRuleSegmentsAndSnapshot(d1, db, projectId, new Date());
}

/** Renames any segment; changes the rules of rule and hybrid segments (a cluster's members are the model's). */
export async function updateSegment(d1: D1Database, db: Database, segment: SegmentRecord, changes: { name?: string; rules?: Condition[]; description?: string | null }) {
  if (changes.rules !== undefined && segment.kind === "cluster") {
    throw invalidField("rules", "invalid_value", "cluster segments have no rules; create a hybrid segment instead");
  }
  const now = new Date();
  const size = changes.rules !== undefined ? (await previewSegment(d1, db, segment.projectId, changes.rules, segment.clusterSegmentId, 0)).count : segment.size;
  const updated = await db
    .update(segments)
    .set({
      ...(changes.name !== undefined && { name: changes.name.trim() }),
      ...(changes.description !== undefined && { description: changes.description }),
      ...(changes.rules !== undefined && { rules: changes.rules, size, lastComputedAt: now }),
      updatedAt: now,
    })
    .where(eq(segments.id, segment.id))
    .returning()
    .get();
  if (changes.rules !== undefined) await refreshMembership(d1, db, segment.projectId);
  return updated!;
}

/** Deletes a rule or hybrid segment. Cluster segments belong to the model: the next run decides them (409). */
export async function deleteSegment(d1: D1Database, db: Database, segment: SegmentRecord) {
  if (segment.kind === "cluster") throw new ApiError("conflict", { reason: "cluster segments are managed by segmentation runs" });
  const bound = await db.select({ id: automations.id }).from(automations).where(eq(automations.segmentId, segment.id)).all();
  if (bound.length) throw new ApiError("conflict", { reason: "automations use this segment", automation_ids: bound.map((a) => a.id) });
  await db.delete(segments).where(eq(segments.id, segment.id));
  await refreshMembership(d1, db, segment.projectId);
}
