import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { segments } from "../db/schema";
import { invalidField } from "../errors";
import { toHex } from "../lib/crypto";
import type { Principal } from "./access";
import { compileConditions, FilterError, type Condition } from "./customer-filters";
import { assertCanSee } from "./access";
import { lastCompletedRun } from "./jobs";
import { vectorStore } from "./vector-store";
import type { Bindings } from "../env";
import { storedExtraFeatures } from "../db/stored-json";

/** The columns a customer profile is read with. */
export const CUSTOMER_COLUMNS = `customers.id, customers.project_id, customers.customer_id, customers.segment_id, customers.segment_label,
  customers.churn_score, customers.churn_risk, customers.abc_category, customers.rfm_recency_days, customers.frequency,
  customers.monetary_cents, customers.return_rate, customers.uplift_score, customers.expected_purchases_90d,
  customers.first_purchase_at, customers.last_transaction_at, customers.extra_features, customers.profiled_at`;

export type CustomerRow = {
  id: string;
  project_id: string;
  customer_id: string;
  segment_id: string | null;
  segment_label: string | null;
  churn_score: number | null;
  churn_risk: "low" | "medium" | "high" | null;
  abc_category: "A" | "B" | "C" | null;
  rfm_recency_days: number | null;
  frequency: number;
  monetary_cents: number;
  return_rate: number;
  uplift_score: number | null;
  expected_purchases_90d: number | null;
  first_purchase_at: number | null;
  last_transaction_at: number;
  extra_features: string | null;
  profiled_at: number | null;
};

/** A short pseudonymous handle of the tenant's customer id, for screens that should not show it. */
async function customerHandle(projectId: string, customerId: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${projectId}:${customerId}`)));
  return `CUST_${toHex(digest.subarray(0, 4)).toUpperCase()}`;
}

export async function publicCustomer(row: CustomerRow) {
  return {
    id: row.id,
    customer_id: row.customer_id,
    customer_id_hash: await customerHandle(row.project_id, row.customer_id),
    segment_id: row.segment_id,
    segment_label: row.segment_label,
    churn_score: row.churn_score,
    churn_risk: row.churn_risk,
    abc_category: row.abc_category,
    rfm_recency_days: row.rfm_recency_days,
    rfm_frequency: row.frequency,
    rfm_monetary: row.monetary_cents / 100,
    return_rate: row.return_rate,
    uplift_score: row.uplift_score,
    expected_purchases_90d: row.expected_purchases_90d,
    first_purchase_at: row.first_purchase_at === null ? null : new Date(row.first_purchase_at).toISOString(),
    last_transaction_at: new Date(row.last_transaction_at).toISOString(),
    extra_features: row.extra_features ? storedExtraFeatures(row.extra_features) : {},
    profiled_at: row.profiled_at === null ? null : new Date(row.profiled_at).toISOString(),
  };
}

export const sortFields = {
  rfm_recency_days: "customers.rfm_recency_days",
  rfm_frequency: "customers.frequency",
  rfm_monetary: "customers.monetary_cents",
  return_rate: "customers.return_rate",
  churn_score: "customers.churn_score",
  uplift_score: "customers.uplift_score",
  expected_purchases_90d: "customers.expected_purchases_90d",
  last_transaction_at: "customers.last_transaction_at",
  first_purchase_at: "customers.first_purchase_at",
  customer_id: "customers.customer_id",
} as const;
export type SortField = keyof typeof sortFields;

/** A WHERE clause over a project's customers: conditions, optionally inside a cluster segment. */
export function customerScope(projectId: string, conditions: readonly Condition[], clusterSegmentId?: string | null) {
  let compiled;
  try {
    compiled = compileConditions(conditions);
  } catch (error) {
    if (error instanceof FilterError) throw invalidField(`rules.${error.path}`, "invalid_condition", error.message);
    throw error;
  }
  const parts = ["customers.project_id = ?", `(${compiled.sql})`];
  const params: unknown[] = [projectId, ...compiled.params];
  if (clusterSegmentId) {
    parts.push("customers.segment_id = ?");
    params.push(clusterSegmentId);
  }
  return { sql: parts.join(" AND "), params };
}

export async function listCustomers(
  d1: D1Database,
  projectId: string,
  query: { conditions: Condition[]; page: number; limit: number; sortBy: SortField; sortDir: "asc" | "desc"; clusterSegmentId?: string | null },
) {
  const where = customerScope(projectId, query.conditions, query.clusterSegmentId);
  // Nulls (customers not yet profiled) sort last either way; customer_id breaks ties so pages are stable.
  const order = `${sortFields[query.sortBy]} IS NULL, ${sortFields[query.sortBy]} ${query.sortDir === "asc" ? "ASC" : "DESC"}, customers.customer_id ASC`;
  const [count, page] = await d1.batch<{ n: number } | CustomerRow>([
    d1.prepare(`SELECT COUNT(*) AS n FROM customers WHERE ${where.sql}`).bind(...where.params),
    d1
      .prepare(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .bind(...where.params, query.limit, (query.page - 1) * query.limit),
  ]);
  const total = (count!.results[0] as { n: number }).n;
  return {
    customers: await Promise.all((page!.results as CustomerRow[]).map(publicCustomer)),
    total,
    page: query.page,
    pages: Math.ceil(total / query.limit),
  };
}

/** Membership of any segment as conditions: a cluster by id, a rule or hybrid segment by its rules (400 if not in the project). */
export async function segmentMembership(db: Database, projectId: string, segmentId: string): Promise<{ conditions: Condition[]; clusterSegmentId: string | null }> {
  const segment = await db.select().from(segments).where(and(eq(segments.id, segmentId), eq(segments.projectId, projectId))).get();
  if (!segment) throw invalidField("segment_id", "invalid_value", "no such segment in this project");
  if (segment.kind === "cluster") return { conditions: [{ field: "segment_id", op: "eq", value: segment.id }], clusterSegmentId: null };
  return { conditions: (segment.rules ?? []) as Condition[], clusterSegmentId: segment.clusterSegmentId };
}

/**
 * A customer's nearest neighbours in the same project (cosine similarity of embeddings), with the names
 * of the embedding's features from the last completed model run.
 */
export async function similarCustomers(env: Bindings, db: Database, customer: CustomerRow, limit: number) {
  const d1 = env.DB;
  const matches = (await vectorStore(env).nearest(customer.project_id, customer.customer_id, limit)) ?? [];
  const rows = matches.length
    ? (
        await d1
          .prepare(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE project_id = ? AND customer_id IN (SELECT value FROM json_each(?))`)
          .bind(customer.project_id, JSON.stringify(matches.map((m) => m.customerKey)))
          .all<CustomerRow>()
      ).results
    : [];
  const byKey = new Map(rows.map((r) => [r.customer_id, r]));
  const lastRun = await lastCompletedRun(db, customer.project_id);
  return {
    customer: await publicCustomer(customer),
    similar: await Promise.all(matches.filter((m) => byKey.has(m.customerKey)).map(async (m) => ({ ...(await publicCustomer(byKey.get(m.customerKey)!)), similarity: m.similarity }))),
    features: (lastRun?.result as { embedding_features?: string[] } | null)?.embedding_features ?? [],
  };
}

/** A customer the caller may see (by the API's customer id); otherwise 404. */
export async function customerForPrincipal(d1: D1Database, db: Database, principal: Principal, id: string): Promise<CustomerRow> {
  const row = await d1
    .prepare(`SELECT ${CUSTOMER_COLUMNS}, projects.organization_id AS organization_id FROM customers JOIN projects ON projects.id = customers.project_id WHERE customers.id = ?`)
    .bind(id)
    .first<CustomerRow & { organization_id: string }>();
  await assertCanSee(db, principal, row && { projectId: row.project_id, organizationId: row.organization_id });
  return row!;
}
