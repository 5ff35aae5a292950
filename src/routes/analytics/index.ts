import { createRouter } from "../router";
import { registerSegOps } from "./segops";
import { registerSqlApi } from "./sql";
import { registerUsageSeries } from "./usage-series";

/** Mounted at /api/analytics. */
export function analyticsRoutes() {
  const app = createRouter();
  registerSegOps(app);
  registerSqlApi(app);
  return app;
}

/** Mounted at /api/organizations. */
export function organizationAnalyticsRoutes() {
  const app = createRouter();
  registerUsageSeries(app);
  return app;
}
