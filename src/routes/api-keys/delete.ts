import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { deleteApiKey, findApiKey } from "../../services/api-keys";
import { MANAGERS } from "../../services/organizations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { ApiKeyParams } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/{projectId}/api-keys/{keyId}",
  operationId: "deleteApiKey",
  tags: ["API keys"],
  summary: "Delete a key",
  description: "Owners and admins. The key is refused within 5 s everywhere.",
  ...auth.session(),
  request: { params: ApiKeyParams },
  responses: { 204: { description: "Deleted" }, ...authErrorResponses },
});

export function registerDeleteApiKey(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { projectId, keyId } = c.req.valid("param");
    const project = await projectForPrincipal(db, principalOf(c), projectId, MANAGERS);
    await deleteApiKey(db, await findApiKey(db, project.id, keyId));
    return c.body(null, 204);
  });
}
