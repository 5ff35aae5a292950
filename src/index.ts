import { createApp } from "./app";
import type { Bindings } from "./env";

import { handleQueue } from "./queues";
import { resumeStalledRuns, runScheduledAutomations } from "./services/automation-runs";
import { resealStaleConnectors } from "./services/connectors";
import { refitClosedWindows } from "./services/uplift";

export { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
export { JobProgress } from "../durable-objects/job-progress";
export { PurchaseHistory } from "../durable-objects/purchase-history";
export { AnalyticsWarehouse } from "../durable-objects/analytics-warehouse";
export { SimilarityIndex } from "../durable-objects/similarity-index";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  // Cron Trigger, every minute: automations with a schedule whose cron matches this minute run, runs
  // whose queue messages were lost are queued again, once a day uplift is refitted where outcome
  // windows have closed, and after a key rotation a batch of connectors' secrets is sealed again under
  // the new key.
  scheduled: (controller, env, ctx) => {
    const at = new Date(controller.scheduledTime);
    ctx.waitUntil(Promise.all([runScheduledAutomations(env, at), resumeStalledRuns(env), refitClosedWindows(env.DB, at), resealStaleConnectors(env)]));
  },
} satisfies ExportedHandler<Bindings>;
