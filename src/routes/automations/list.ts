import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listAutomations, publicAutomation } from "../../services/automations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { AutomationList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/automations",
  operationId: "listAutomations",
  tags: ["Automations"],
  summary: "A project's automations",
  ...auth.session(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(AutomationList, "Automations, oldest first"), ...authErrorResponses },
});

export function registerListAutomations(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listAutomations(db, project.id, c.req.valid("query"));
    return c.json({ automations: page.items.map(publicAutomation), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
