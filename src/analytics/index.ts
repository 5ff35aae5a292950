import type { Bindings } from "../env";
import { AnalyticsEngineStore } from "./ae-store";
import { D1AnalyticsStore } from "./d1-store";
import type { AnalyticsStore } from "./store";

/**
 * The configured store: `ANALYTICS_STORE=analytics-engine` in production (the USAGE binding for
 * writes, the SQL API with CF_ACCOUNT_ID and CF_API_TOKEN for reads), D1 otherwise, since locally the
 * AE binding accepts writes but nothing can read them back.
 */
export function analyticsStore(env: Bindings): AnalyticsStore {
  if (env.ANALYTICS_STORE === "analytics-engine" && env.USAGE && env.CF_ACCOUNT_ID && env.CF_API_TOKEN) {
    return new AnalyticsEngineStore(env.USAGE, { accountId: env.CF_ACCOUNT_ID, apiToken: env.CF_API_TOKEN, dataset: env.ANALYTICS_DATASET ?? "segmento_usage" });
  }
  return new D1AnalyticsStore(env.DB);
}

export type { AnalyticsStore, UsageQuery, UsageRow, UsageDimension } from "./store";
export type { UsageEvent, UsageEventType } from "./schema";
