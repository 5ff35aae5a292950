import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { createConnector, publicConnector } from "../../services/connectors";
import { MANAGERS } from "../../services/organizations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, ProjectIdParam } from "../schemas";
import { Connector, CreateConnectorBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/connectors",
  operationId: "createConnector",
  tags: ["Connectors"],
  summary: "Add a delivery channel to a project",
  description:
    "Owners and admins. URLs (custom webhook, Slack, Teams) must be https on the default port, without credentials, and not name a private, loopback, link-local or metadata address in any spelling; a custom webhook's host name must resolve, and only to public addresses (checked again before every request); Slack and Teams URLs must be on their webhook hosts.",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(CreateConnectorBody) },
  responses: {
    201: createdResponse(Connector, "Created; secrets as [REDACTED]"),
    ...authErrorResponses,
    503: errorResponse("No encryption key is configured for connector secrets, or the DNS resolver that checks a webhook's host did not answer (`service_unavailable`)"),
  },
});

export function registerCreateConnector(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId, MANAGERS);
    const connector = publicConnector(await createConnector(c.env, db, project, c.req.valid("json")));
    c.header("Location", `/api/connectors/${connector.id}`);
    return c.json(connector, 201);
  });
}
