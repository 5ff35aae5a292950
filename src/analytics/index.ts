import type { Bindings } from "../env";
import { AnalyticsEngineStore } from "./ae-store";
import { D1AnalyticsStore } from "./d1-store";
import type { AnalyticsStore } from "./store";

/**
 * The configured store: `ANALYTICS_STORE=analytics-engine` in production (with the USAGE binding),
 * D1 otherwise, since locally the AE binding accepts writes but nothing can read them back.
 */
export function analyticsStore(env: Bindings): AnalyticsStore {
  if (env.ANALYTICS_STORE === "analytics-engine" && env.USAGE) return new AnalyticsEngineStore(env.USAGE);
  return new D1AnalyticsStore(env.DB);
}

export type { AnalyticsStore } from "./store";
export type { UsageEvent, UsageEventType } from "./schema";
