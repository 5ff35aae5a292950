import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { requireMembership } from "../../services/organizations";
import { createProject, publicProject } from "../../services/projects";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, OrganizationIdParam } from "../schemas";
import { Project, ProjectBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/organizations/{orgId}/projects",
  operationId: "createProject",
  tags: ["Projects"],
  summary: "Create a project (a dataset) in an organization",
  ...auth.session(),
  request: { params: OrganizationIdParam, body: jsonBody(ProjectBody) },
  responses: { 201: createdResponse(Project, "Created"), ...authErrorResponses },
});

export function registerCreateProject(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { orgId } = c.req.valid("param");
    await requireMembership(db, sessionOf(c).user.id, orgId);
    const project = publicProject(await createProject(db, orgId, c.req.valid("json").name));
    c.header("Location", `/api/projects/${project.id}`);
    return c.json(project, 201);
  });
}
