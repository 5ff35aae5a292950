import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { Conditions, type Condition } from "../../services/customer-filters";
import { listCustomers, segmentMembership } from "../../services/customers";
import { projectForPrincipal } from "../../services/access";
import { parseJsonParam } from "../json-param";
import { auth, type Router } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { CustomerPage, CustomerQuery } from "./schema";

const route = createRoute({
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

export function registerListCustomers(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const query = c.req.valid("query");
    const conditions: Condition[] = parseJsonParam(query.filters, Conditions, "filters", c.get("locale")) ?? [];
    if (query.churn_risk) conditions.push({ field: "churn_risk", op: "eq", value: query.churn_risk });
    if (query.abc_category) conditions.push({ field: "abc_category", op: "eq", value: query.abc_category });
    let clusterSegmentId: string | null = null;
    if (query.segment_id) {
      const membership = await segmentMembership(db, project.id, query.segment_id);
      conditions.push(...membership.conditions);
      clusterSegmentId = membership.clusterSegmentId;
    }
    const page = await listCustomers(c.env.DB, project.id, { conditions, clusterSegmentId, page: query.page, limit: query.limit, sortBy: query.sort_by, sortDir: query.sort_dir });
    return c.json(page, 200);
  });
}
