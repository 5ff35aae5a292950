import { createApp } from "./app";
import type { Bindings } from "./env";

import { handleQueue } from "./queues";
import { runScheduledAutomations } from "./services/automation-runs";

export { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
export { JobProgress } from "../durable-objects/job-progress";
export { PurchaseHistory } from "../durable-objects/purchase-history";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  // Cron Trigger, every minute: automations with a schedule whose cron matches this minute run.
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduledAutomations(env, new Date(controller.scheduledTime))),
} satisfies ExportedHandler<Bindings>;
