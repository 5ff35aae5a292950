import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { segmentTrends } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { SegmentTrend, scopeDescription as description, scopedRoute as common } from "./schema";

const route = createRoute({
    method: "get",
    path: "/segments",
    operationId: "getSegmentTrends",
    summary: "Segments with a 30-day daily membership trend",
    description: `${description} The trend comes from the daily membership snapshots; it is empty until a segment has snapshots on two days.`,
    ...common,
    responses: { 200: jsonResponse(SegmentTrend, "Segments"), ...authErrorResponses },
  });

export function registerSegmentTrends(app: Router) {
  app.openapi(route, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await segmentTrends(c.env.DB, scope), 200);
  });
}
