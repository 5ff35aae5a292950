import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { MANAGERS } from "../../services/organizations";
import { forgetPurchaseHistory } from "../../services/crm-analytics";
import { refreshWarehouse } from "../../services/sql-query";
import { deleteProject, projectForPrincipal } from "../../services/projects";
import { auth, type Router } from "../router";
import { ProjectIdParam } from "../schemas";

const route = createRoute({
  method: "delete",
  path: "/projects/{projectId}",
  tags: ["Projects"],
  summary: "Delete a project and everything in it",
  description: "Owners and admins only. Its API keys stop working at once here, and within 5 s in every other edge isolate.",
  ...auth.session(),
  request: { params: ProjectIdParam },
  responses: { 204: { description: "Deleted" }, ...authErrorResponses },
});

export function registerDeleteProject(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId, MANAGERS);
    await deleteProject(db, project);
    // What is derived from the project outside D1 goes too.
    c.executionCtx.waitUntil(forgetPurchaseHistory(c.env, project.id));
    c.executionCtx.waitUntil(refreshWarehouse(c.env, project.organizationId));
    return c.body(null, 204);
  });
}
