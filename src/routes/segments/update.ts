import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { runChangedSegmentAutomations } from "../../services/automation-runs";
import { publicSegment, segmentForPrincipal, updateSegment } from "../../services/segments";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { Segment, SegmentIdParam, UpdateSegmentBody } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/segments/{segmentId}",
  operationId: "updateSegment",
  tags: ["Segments"],
  summary: "Rename a segment or change its rules",
  description: "Any segment can be renamed; rules belong to rule and hybrid segments.",
  ...auth.session(),
  request: { params: SegmentIdParam, body: jsonBody(UpdateSegmentBody) },
  responses: { 200: jsonResponse(Segment, "Updated"), ...authErrorResponses },
});

export function registerUpdateSegment(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const segment = await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId);
    const changes = c.req.valid("json");
    const updated = await updateSegment(c.env.DB, db, segment, changes);
    // New rules change the members: segment_change automations bound to it run, as after a model run.
    if (changes.rules !== undefined) {
      c.executionCtx.waitUntil(
        runChangedSegmentAutomations(c.env, segment.projectId).catch((error: unknown) =>
          console.error(JSON.stringify({ level: "error", message: "segment_change automations failed to start", segmentId: segment.id, error: String(error) })),
        ),
      );
    }
    return c.json(publicSegment(updated), 200);
  });
}
