import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { publicSegment, segmentForPrincipal } from "../../services/segments";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { Segment, SegmentIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/segments/{segmentId}",
  operationId: "getSegment",
  tags: ["Segments"],
  summary: "One segment",
  ...auth.sessionOrApiKey(),
  request: { params: SegmentIdParam },
  responses: { 200: jsonResponse(Segment, "The segment, with its current size"), ...authErrorResponses },
});

export function registerGetSegment(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    return c.json(publicSegment(await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId)), 200);
  });
}
