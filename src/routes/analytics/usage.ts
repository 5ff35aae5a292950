import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { planUsage } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { PlanUsage, scopedRoute as common } from "./schema";

const route = createRoute({
    method: "get",
    path: "/usage",
    operationId: "getAnalyticsUsage",
    summary: "This billing period's usage against the plan's limits",
    description: "Organization-wide (quotas are per organization); -1 means unlimited.",
    ...common,
    responses: { 200: jsonResponse(PlanUsage, "Usage"), ...authErrorResponses },
  });

export function registerAnalyticsUsage(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const scope = await analyticsScope(db, principalOf(c), c.req.valid("query").project_id);
    return c.json(await planUsage(c.env.DB, db, scope.organizationId), 200);
  });
}
