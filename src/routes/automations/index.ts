import { createRouter } from "../router";
import { registerCreateAutomation } from "./create";
import { registerDeleteAutomation } from "./delete";
import { registerGetAutomation } from "./get";
import { registerListAutomations } from "./list";
import { registerPreviewAutomation } from "./preview";
import { registerUpdateAutomation } from "./update";

/** Mounted at /api: automations live under their project and at /api/automations/:automationId. */
export function automationRoutes() {
  const app = createRouter();
  registerCreateAutomation(app);
  registerListAutomations(app);
  registerGetAutomation(app);
  registerUpdateAutomation(app);
  registerDeleteAutomation(app);
  registerPreviewAutomation(app);
  return app;
}
