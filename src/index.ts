import { createApp } from "./app";
import type { Bindings } from "./env";

import { handleQueue } from "./queues";

export { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
export { JobProgress } from "../durable-objects/job-progress";
export { PurchaseHistory } from "../durable-objects/purchase-history";
export { AnalyticsWarehouse } from "../durable-objects/analytics-warehouse";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
} satisfies ExportedHandler<Bindings>;
