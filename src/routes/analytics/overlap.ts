import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { overlapAnalytics } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { Overlap, scopeDescription as description, scopedRoute as common } from "./schema";

const route = createRoute({
    method: "get",
    path: "/overlap",
    operationId: "getSegmentOverlap",
    summary: "Top 20 segment pairs by shared members",
    description: `${description} From the latest snapshot: overlap_pct = overlap / min(size_a, size_b) × 100; [] with fewer than 2 segments.`,
    ...common,
    responses: { 200: jsonResponse(Overlap, "Pairs"), ...authErrorResponses },
  });

export function registerSegmentOverlap(app: Router) {
  app.openapi(route, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await overlapAnalytics(c.env.DB, scope), 200);
  });
}
