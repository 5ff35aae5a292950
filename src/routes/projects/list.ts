import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { requireMembership } from "../../services/organizations";
import { listProjects, publicProject } from "../../services/projects";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam, PageQuery } from "../schemas";
import { ProjectList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/organizations/{orgId}/projects",
  operationId: "listProjects",
  tags: ["Projects"],
  summary: "Projects of an organization",
  ...auth.session(),
  request: { params: OrganizationIdParam, query: PageQuery },
  responses: { 200: jsonResponse(ProjectList, "Projects, oldest first"), ...authErrorResponses },
});

export function registerListProjects(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { orgId } = c.req.valid("param");
    await requireMembership(db, sessionOf(c).user.id, orgId);
    const page = await listProjects(db, orgId, c.req.valid("query"));
    return c.json({ projects: page.items.map(publicProject), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
