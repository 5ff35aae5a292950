import type { UsageEvent } from "./schema";

/**
 * Where usage and trend events go and are read back from. Two implementations: Analytics Engine in
 * production (d1-store.ts is the local and test default). Reads are added by the analytics issue.
 */
export interface AnalyticsStore {
  record(events: UsageEvent[]): Promise<void>;
}
