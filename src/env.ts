import type { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
import type { JobProgress } from "../durable-objects/job-progress";
import type { PurchaseHistory } from "../durable-objects/purchase-history";
import type { ActivationMessage, IngestMessage, SegmentationMessage } from "./queues/messages";

/** The Worker's bindings, as declared in wrangler.toml (vars arrive as strings). */
export type Bindings = {
  DB: D1Database;
  RATE_LIMIT_BUCKET: DurableObjectNamespace<RateLimitBucket>;
  JOB_PROGRESS: DurableObjectNamespace<JobProgress>;
  PURCHASE_HISTORY: DurableObjectNamespace<PurchaseHistory>;
  FILES: R2Bucket;
  INGEST_QUEUE: Queue<IngestMessage>;
  SEGMENTATION_QUEUE: Queue<SegmentationMessage>;
  ACTIVATIONS_QUEUE: Queue<ActivationMessage>;
  USAGE?: AnalyticsEngineDataset;
  ANALYTICS_STORE?: string;
  ANALYTICS_DATASET?: string;
  CF_ACCOUNT_ID?: string;
  CF_API_TOKEN?: string;
  SEGMENTATION_DELAY_SECONDS?: string;
  METER_FLUSH_MS?: string;
  JWT_SECRET: string;
  RATE_LIMIT_MAX: string;
  RATE_LIMIT_WINDOW_SECONDS: string;
  CONTACT_RATE_LIMIT_MAX: string;
  CONTACT_RATE_LIMIT_WINDOW_SECONDS: string;
  SESSION_TTL_SECONDS: string;
  /** Keys that seal connector secrets: `version:hex` pairs, comma separated; the first seals, all open. */
  CONNECTOR_ENCRYPTION_KEYS?: string;
  /** "true" lets local runs and benchmarks deliver to loopback over http; must stay "false" in production. */
  OUTBOUND_ALLOW_LOOPBACK?: string;
};

/** Numeric configuration read from vars, with the documented defaults when a var is absent. */
export function config(env: Bindings) {
  return {
    rateLimit: {
      max: positiveInt(env.RATE_LIMIT_MAX, 1000),
      windowSeconds: positiveInt(env.RATE_LIMIT_WINDOW_SECONDS, 900),
    },
    contactRateLimit: {
      max: positiveInt(env.CONTACT_RATE_LIMIT_MAX, 5),
      windowSeconds: positiveInt(env.CONTACT_RATE_LIMIT_WINDOW_SECONDS, 3600),
    },
    sessionTtlSeconds: positiveInt(env.SESSION_TTL_SECONDS, 30 * 24 * 3600),
    segmentationDelaySeconds: nonNegativeInt(env.SEGMENTATION_DELAY_SECONDS, 5),
    meterFlushMs: nonNegativeInt(env.METER_FLUSH_MS, 1000),
    outboundAllowLoopback: env.OUTBOUND_ALLOW_LOOPBACK === "true",
  };
}

function nonNegativeInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

export type AppEnv = {
  Bindings: Bindings;
  Variables: import("./middleware/request-context").RequestContextVariables &
    Partial<import("./middleware/auth").AuthVariables>;
};
