import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { connectorForPrincipal, publicConnector } from "../../services/connectors";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { Connector, ConnectorIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/connectors/{connectorId}",
  operationId: "getConnector",
  tags: ["Connectors"],
  summary: "One connector",
  description: "Members. Secrets read [REDACTED].",
  ...auth.session(),
  request: { params: ConnectorIdParam },
  responses: { 200: jsonResponse(Connector, "The connector"), ...authErrorResponses },
});

export function registerGetConnector(app: Router) {
  app.openapi(route, async (c) => {
    const connector = await connectorForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").connectorId);
    return c.json(publicConnector(connector), 200);
  });
}
