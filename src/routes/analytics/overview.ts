import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { overviewAnalytics } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { AnalyticsOverview, scopeDescription as description, scopedRoute as common } from "./schema";

const route = createRoute({
  method: "get",
  path: "/overview",
  operationId: "getAnalyticsOverview",
  summary: "Segments, members, ingested events and AI credits",
  description,
  ...common,
  responses: { 200: jsonResponse(AnalyticsOverview, "Overview"), ...authErrorResponses },
});

export function registerAnalyticsOverview(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const scope = await analyticsScope(db, principalOf(c), c.req.valid("query").project_id);
    return c.json(await overviewAnalytics(c.env, db, scope), 200);
  });
}
