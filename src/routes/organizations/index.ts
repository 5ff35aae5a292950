import { createRouter } from "../router";
import { registerCreateOrganization } from "./create";
import { registerGetOrganization } from "./get";
import { registerListOrganizations } from "./list";

export function organizationRoutes() {
  const app = createRouter();
  registerCreateOrganization(app);
  registerListOrganizations(app);
  registerGetOrganization(app);
  return app;
}
