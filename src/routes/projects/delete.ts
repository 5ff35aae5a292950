import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { MANAGERS } from "../../services/organizations";
import { deleteProject } from "../../services/projects";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { ProjectIdParam } from "../schemas";

const route = createRoute({
  method: "delete",
  path: "/projects/{projectId}",
  operationId: "deleteProject",
  tags: ["Projects"],
  summary: "Delete a project and everything in it",
  description: "Owners and admins only. Everything of it goes: its rows, its stored files (R2), CRM history and job progress. " +
    "Its API keys stop working at once here, and within 5 s in every other edge isolate.",
  ...auth.session(),
  request: { params: ProjectIdParam },
  responses: { 204: { description: "Deleted" }, ...authErrorResponses },
});

export function registerDeleteProject(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId, MANAGERS);
    await deleteProject(db, c.env, project);
    return c.body(null, 204);
  });
}
