import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { connectorForPrincipal, publicConnector, updateConnector } from "../../services/connectors";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { Connector, ConnectorIdParam, UpdateConnectorBody } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/connectors/{connectorId}",
  operationId: "updateConnector",
  tags: ["Connectors"],
  summary: "Rename a connector or change its fields",
  description: "Owners and admins. Fields left out are kept, secrets included; the channel cannot change. URLs are checked as on create.",
  ...auth.session(),
  request: { params: ConnectorIdParam, body: jsonBody(UpdateConnectorBody) },
  responses: {
    200: jsonResponse(Connector, "Updated; secrets as [REDACTED]"),
    ...authErrorResponses,
    503: errorResponse("No encryption key is configured for connector secrets, or the DNS resolver that checks a webhook's host did not answer (`service_unavailable`)"),
  },
});

export function registerUpdateConnector(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const connector = await connectorForPrincipal(db, principalOf(c), c.req.valid("param").connectorId, MANAGERS);
    return c.json(publicConnector(await updateConnector(c.env, db, connector, c.req.valid("json"))), 200);
  });
}
