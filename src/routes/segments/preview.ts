import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/access";
import { previewSegment } from "../../services/segments";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse, ProjectIdParam } from "../schemas";
import { Preview, PreviewBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/segments/preview",
  operationId: "previewSegment",
  tags: ["Segments"],
  summary: "Count and sample the customers rules would select, without saving",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, body: jsonBody(PreviewBody) },
  responses: { 200: jsonResponse(Preview, "Matching customers: count and up to 20 by monetary value"), ...authErrorResponses },
});

export function registerPreviewSegment(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const body = c.req.valid("json");
    return c.json(await previewSegment(c.env.DB, db, project.id, body.rules, body.cluster_segment_id), 200);
  });
}
