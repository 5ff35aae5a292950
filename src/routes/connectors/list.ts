import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listConnectors, publicConnector } from "../../services/connectors";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { ConnectorList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/connectors",
  operationId: "listConnectors",
  tags: ["Connectors"],
  summary: "A project's connectors",
  description: "Members. Secrets are never returned: each reads [REDACTED].",
  ...auth.session(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(ConnectorList, "Connectors, oldest first"), ...authErrorResponses },
});

export function registerListConnectors(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listConnectors(db, project.id, c.req.valid("query"));
    return c.json({ connectors: page.items.map(publicConnector), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
