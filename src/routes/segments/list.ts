import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/access";
import { listSegments, publicSegment } from "../../services/segments";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { SegmentList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/segments",
  operationId: "listSegments",
  tags: ["Segments"],
  summary: "A project's segments",
  description: "Cluster segments from the last segmentation run (named from their RFM position, ids kept across runs), then rule and hybrid segments.",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(SegmentList, "Segments"), ...authErrorResponses },
});

export function registerListSegments(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listSegments(db, project.id, c.req.valid("query"));
    return c.json({ segments: page.items.map(publicSegment), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
