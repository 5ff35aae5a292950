import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/access";
import { createRuleSegment, publicSegment } from "../../services/segments";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, ProjectIdParam } from "../schemas";
import { CreateSegmentBody, Segment } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/segments",
  operationId: "createSegment",
  tags: ["Segments"],
  summary: "Create a rule segment (or a hybrid, with cluster_segment_id)",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(CreateSegmentBody) },
  responses: { 201: createdResponse(Segment, "Created, with its current size"), ...authErrorResponses },
});

export function registerCreateSegment(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const segment = publicSegment(await createRuleSegment(c.env.DB, db, project, c.req.valid("json")));
    c.header("Location", `/api/engine/segments/${segment.id}`);
    return c.json(segment, 201);
  });
}
