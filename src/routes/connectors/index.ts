import { createRouter } from "../router";
import { registerCreateConnector } from "./create";
import { registerDeleteConnector } from "./delete";
import { registerGetConnector } from "./get";
import { registerListConnectors } from "./list";
import { registerTestConnector } from "./test";
import { registerUpdateConnector } from "./update";

/** Mounted at /api: connectors live under their project and at /api/connectors/:connectorId. */
export function connectorRoutes() {
  const app = createRouter();
  registerCreateConnector(app);
  registerListConnectors(app);
  registerGetConnector(app);
  registerUpdateConnector(app);
  registerDeleteConnector(app);
  registerTestConnector(app);
  return app;
}
