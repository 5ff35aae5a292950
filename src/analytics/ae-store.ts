import type { AnalyticsStore } from "./store";
import { toDataPoint, type UsageEvent } from "./schema";

/** Analytics Engine: writes are fire-and-forget data points on the binding (reads: the SQL API). */
export class AnalyticsEngineStore implements AnalyticsStore {
  constructor(private readonly dataset: AnalyticsEngineDataset) {}

  async record(events: UsageEvent[]): Promise<void> {
    for (const event of events) this.dataset.writeDataPoint(toDataPoint(event));
  }
}
