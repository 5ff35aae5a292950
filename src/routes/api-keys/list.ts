import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listApiKeys, publicApiKey } from "../../services/api-keys";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { ApiKeyList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{projectId}/api-keys",
  operationId: "listApiKeys",
  tags: ["API keys"],
  summary: "A project's API keys",
  description: "Prefixes only: neither the key nor its hash is ever returned again.",
  ...auth.session(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(ApiKeyList, "Keys, newest first"), ...authErrorResponses },
});

export function registerListApiKeys(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listApiKeys(db, project.id, c.req.valid("query"));
    return c.json({ apiKeys: page.items.map(publicApiKey), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
