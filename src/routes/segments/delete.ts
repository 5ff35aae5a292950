import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { deleteSegment, segmentForPrincipal } from "../../services/segments";
import { auth, type Router } from "../router";
import { SegmentIdParam } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/segments/{segmentId}",
  operationId: "deleteSegment",
  tags: ["Segments"],
  summary: "Delete a rule or hybrid segment",
  ...auth.session(),
  request: { params: SegmentIdParam },
  responses: { 204: { description: "Deleted" }, 409: errorResponse("Cluster segments are managed by segmentation runs (`conflict`)"), ...authErrorResponses },
});

export function registerDeleteSegment(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    await deleteSegment(c.env.DB, db, await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId));
    return c.body(null, 204);
  });
}
