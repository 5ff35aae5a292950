import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listAutomations, publicAutomation } from "../../services/automations";
import { projectForPrincipal } from "../../services/projects";
import { auth, type Router } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { AutomationList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/automations",
  tags: ["Automations"],
  summary: "A project's automations",
  ...auth.session(),
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(AutomationList, "Automations, oldest first"), ...authErrorResponses },
});

export function registerListAutomations(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    return c.json({ automations: (await listAutomations(db, project.id)).map(publicAutomation) }, 200);
  });
}
