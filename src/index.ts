import { createApp } from "./app";
import type { Bindings } from "./env";

export { RateLimitBucket } from "../durable-objects/rate-limit-bucket";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
