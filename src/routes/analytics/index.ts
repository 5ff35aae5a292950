import { createRouter } from "../router";
import { registerActivations } from "./activations";
import { registerCopilotUsage } from "./copilot";
import { registerAnalyticsOverview } from "./overview";
import { registerSegmentOverlap } from "./overlap";
import { registerSegmentTrends } from "./segment-trends";
import { registerSignalsMetadata } from "./signals-metadata";
import { registerSqlQuery } from "./query";
import { registerSqlSchema } from "./sql-schema";
import { registerAnalyticsUsage } from "./usage";
import { registerUsageSeries } from "./usage-series";

/** Mounted at /api/analytics. */
export function analyticsRoutes() {
  const app = createRouter();
  registerAnalyticsOverview(app);
  registerSegmentTrends(app);
  registerSegmentOverlap(app);
  registerActivations(app);
  registerCopilotUsage(app);
  registerAnalyticsUsage(app);
  registerSqlQuery(app);
  registerSqlSchema(app);
  registerSignalsMetadata(app);
  return app;
}

/** Mounted at /api/organizations. */
export function organizationAnalyticsRoutes() {
  const app = createRouter();
  registerUsageSeries(app);
  return app;
}
