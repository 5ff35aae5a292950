import { createApp } from "./app";
import type { Bindings } from "./env";

import { handleQueue } from "./queues";
import { resumeStalledRuns, runScheduledAutomations } from "./services/automation-runs";

export { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
export { JobProgress } from "../durable-objects/job-progress";
export { PurchaseHistory } from "../durable-objects/purchase-history";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  // Cron Trigger, every minute: automations with a schedule whose cron matches this minute run, and
  // runs whose queue messages were lost are queued again.
  scheduled: (controller, env, ctx) => ctx.waitUntil(Promise.all([runScheduledAutomations(env, new Date(controller.scheduledTime)), resumeStalledRuns(env)])),
} satisfies ExportedHandler<Bindings>;
