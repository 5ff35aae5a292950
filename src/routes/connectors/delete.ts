import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { connectorForPrincipal, deleteConnector } from "../../services/connectors";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { ConnectorIdParam } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/connectors/{connectorId}",
  operationId: "deleteConnector",
  tags: ["Connectors"],
  summary: "Delete a connector and its sealed secrets",
  description: "Owners and admins.",
  ...auth.session(),
  request: { params: ConnectorIdParam },
  responses: { 204: { description: "Deleted" }, ...authErrorResponses },
});

export function registerDeleteConnector(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    await deleteConnector(db, await connectorForPrincipal(db, principalOf(c), c.req.valid("param").connectorId, MANAGERS));
    return c.body(null, 204);
  });
}
