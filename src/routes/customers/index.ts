import { createRoute } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { authErrorResponses, invalidField } from "../../errors";
import { database, type Database } from "../../db/client";
import { jobs, segments } from "../../db/schema";
import { principalOf } from "../../middleware/auth";
import { Conditions, type Condition } from "../../services/customer-filters";
import { CUSTOMER_COLUMNS, customerForPrincipal, listCustomers, publicCustomer, type CustomerRow } from "../../services/customers";
import { projectForPrincipal } from "../../services/projects";
import { D1VectorStore } from "../../services/vector-store";
import { parseJsonParam } from "../json-param";
import { auth, createRouter } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { CustomerIdParam, CustomerPage, CustomerQuery, Customer, SimilarCustomers, SimilarQuery } from "./schema";


const list = createRoute({
  method: "get",
  path: "/projects/{projectId}/customers",
  operationId: "listCustomers",
  tags: ["Customers"],
  summary: "Customer profiles, filtered, sorted and paginated",
  description:
    "Simple filters (`churn_risk`, `abc_category`, `segment_id`) and `filters` (JSON conditions) combine with AND. " +
    "Customers without a value in the sort field (not yet modelled) come last.",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, query: CustomerQuery },
  responses: { 200: jsonResponse(CustomerPage, "A page of customers"), ...authErrorResponses },
});

const get = createRoute({
  method: "get",
  path: "/customers/{customerId}",
  operationId: "getCustomer",
  tags: ["Customers"],
  summary: "One customer profile",
  ...auth.sessionOrApiKey(),
  request: { params: CustomerIdParam },
  responses: { 200: jsonResponse(Customer, "The customer"), ...authErrorResponses },
});

const similar = createRoute({
  method: "get",
  path: "/customers/{customerId}/similar",
  operationId: "listSimilarCustomers",
  tags: ["Customers"],
  summary: "The most similar customers of the same project",
  description: "Cosine nearest neighbours of the customer's embedding (standardized RFM, churn score and numeric extra features). Empty until the project has been modelled.",
  ...auth.sessionOrApiKey(),
  request: { params: CustomerIdParam, query: SimilarQuery },
  responses: { 200: jsonResponse(SimilarCustomers, "Neighbours, most similar first"), ...authErrorResponses },
});

/** Membership of any segment as conditions: a cluster by id, a rule or hybrid segment by its rules. */
async function segmentConditions(db: Database, projectId: string, segmentId: string) {
  const segment = await db.select().from(segments).where(and(eq(segments.id, segmentId), eq(segments.projectId, projectId))).get();
  if (!segment) throw invalidField("segment_id", "invalid_value", "no such segment in this project");
  if (segment.kind === "cluster") return { conditions: [{ field: "segment_id", op: "eq", value: segment.id } as Condition], cluster: null };
  return { conditions: (segment.rules ?? []) as Condition[], cluster: segment.clusterSegmentId };
}

/** Mounted at /api/engine. */
export function customerRoutes() {
  const app = createRouter();
  app.openapi(list, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const query = c.req.valid("query");
    const conditions: Condition[] = parseJsonParam(query.filters, Conditions, "filters", c.get("locale")) ?? [];
    if (query.churn_risk) conditions.push({ field: "churn_risk", op: "eq", value: query.churn_risk });
    if (query.abc_category) conditions.push({ field: "abc_category", op: "eq", value: query.abc_category });
    let clusterSegmentId: string | null = null;
    if (query.segment_id) {
      const membership = await segmentConditions(db, project.id, query.segment_id);
      conditions.push(...membership.conditions);
      clusterSegmentId = membership.cluster;
    }
    const page = await listCustomers(c.env.DB, project.id, {
      conditions,
      clusterSegmentId,
      page: query.page,
      limit: query.limit,
      sortBy: query.sort_by,
      sortDir: query.sort_dir,
    });
    return c.json(page, 200);
  });

  app.openapi(get, async (c) => {
    const row = await customerForPrincipal(c.env.DB, database(c.env.DB), principalOf(c), c.req.valid("param").customerId);
    return c.json(await publicCustomer(row), 200);
  });

  app.openapi(similar, async (c) => {
    const db = database(c.env.DB);
    const row = await customerForPrincipal(c.env.DB, db, principalOf(c), c.req.valid("param").customerId);
    const { limit } = c.req.valid("query");
    const matches = (await new D1VectorStore(c.env.DB).nearest(row.project_id, row.customer_id, limit)) ?? [];
    const rows = matches.length
      ? (
          await c.env.DB.prepare(
            `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE project_id = ? AND customer_id IN (SELECT value FROM json_each(?))`,
          )
            .bind(row.project_id, JSON.stringify(matches.map((m) => m.customerKey)))
            .all<CustomerRow>()
        ).results
      : [];
    const byKey = new Map(rows.map((r) => [r.customer_id, r]));
    const lastRun = await db
      .select({ result: jobs.result })
      .from(jobs)
      .where(and(eq(jobs.projectId, row.project_id), eq(jobs.type, "segmentation"), eq(jobs.status, "completed")))
      .orderBy(desc(jobs.finishedAt))
      .get();
    return c.json(
      {
        customer: await publicCustomer(row),
        similar: await Promise.all(matches.filter((m) => byKey.has(m.customerKey)).map(async (m) => ({ ...(await publicCustomer(byKey.get(m.customerKey)!)), similarity: m.similarity }))),
        features: ((lastRun?.result as { embedding_features?: string[] } | null)?.embedding_features ?? []) as string[],
      },
      200,
    );
  });
  return app;
}
