import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { publicProject } from "../../services/projects";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { Project } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}",
  operationId: "getProject",
  tags: ["Projects"],
  summary: "One project",
  description: "A member's session, or the project's own API key (any other project id answers 403 to a key).",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(Project, "The project"), ...authErrorResponses },
});

export function registerGetProject(app: Router) {
  app.openapi(route, async (c) => {
    const project = await projectForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").projectId);
    return c.json(publicProject(project), 200);
  });
}
