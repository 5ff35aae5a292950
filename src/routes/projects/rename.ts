import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { publicProject, renameProject } from "../../services/projects";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse, ProjectIdParam } from "../schemas";
import { Project, ProjectBody } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/projects/{projectId}",
  operationId: "updateProject",
  tags: ["Projects"],
  summary: "Rename a project",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(ProjectBody) },
  responses: { 200: jsonResponse(Project, "Renamed"), ...authErrorResponses },
});

export function registerRenameProject(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    return c.json(publicProject(await renameProject(db, project, c.req.valid("json").name)), 200);
  });
}
