import { createRouter } from "../router";
import { registerCreateAutomation } from "./create";
import { registerDeleteAutomation } from "./delete";
import { registerGetAutomation } from "./get";
import { registerListAutomations } from "./list";
import { registerPreviewAutomation } from "./preview";
import { registerReplayRun } from "./replay";
import { registerRunAutomation } from "./run";
import { registerListRuns } from "./runs";
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
  registerRunAutomation(app);
  registerListRuns(app);
  registerReplayRun(app);
  return app;
}
