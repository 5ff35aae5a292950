import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { findApiKey, publicApiKey, updateApiKey } from "../../services/api-keys";
import { MANAGERS } from "../../services/organizations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { ApiKey, ApiKeyParams, UpdateApiKeyBody } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/{projectId}/api-keys/{keyId}",
  operationId: "updateApiKey",
  tags: ["API keys"],
  summary: "Rename, disable or re-enable a key",
  description: "Owners and admins. A disabled key is refused within 5 s everywhere.",
  ...auth.session(),
  request: { params: ApiKeyParams, body: jsonBody(UpdateApiKeyBody) },
  responses: { 200: jsonResponse(ApiKey, "Updated"), ...authErrorResponses },
});

export function registerUpdateApiKey(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { projectId, keyId } = c.req.valid("param");
    const project = await projectForPrincipal(db, principalOf(c), projectId, MANAGERS);
    const key = await findApiKey(db, project.id, keyId);
    return c.json(publicApiKey(await updateApiKey(db, key, c.req.valid("json"))), 200);
  });
}
