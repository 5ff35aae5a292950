import { createRouter } from "../router";
import { registerActivity } from "./activity";
import { registerUserCohorts } from "./user-cohorts";
import { registerUserLifecycles } from "./user-lifecycles";

/** Mounted at /api/crm/analytics. */
export function crmRoutes() {
  const app = createRouter();
  registerActivity(app);
  registerUserCohorts(app);
  registerUserLifecycles(app);
  return app;
}
