import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { createApiKey, publicApiKey } from "../../services/api-keys";
import { MANAGERS } from "../../services/organizations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, ProjectIdParam } from "../schemas";
import { CreateApiKeyBody, CreatedApiKey } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{projectId}/api-keys",
  operationId: "createApiKey",
  tags: ["API keys"],
  summary: "Create a project API key",
  description: "Owners and admins. The raw `key` is in this response only; the server keeps its SHA-256.",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(CreateApiKeyBody) },
  responses: { 201: createdResponse(CreatedApiKey, "Created"), ...authErrorResponses },
});

export function registerCreateApiKey(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId, MANAGERS);
    const { name, expiresAt } = c.req.valid("json");
    const { record, key } = await createApiKey(db, project.id, { name, expiresAt: expiresAt ? new Date(expiresAt) : null });
    c.header("Location", `/api/projects/${record.projectId}/api-keys/${record.id}`);
    return c.json({ ...publicApiKey(record), key }, 201);
  });
}
