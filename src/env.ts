import type { RateLimitBucket } from "../durable-objects/rate-limit-bucket";
import type { JobProgress } from "../durable-objects/job-progress";
import type { PurchaseHistory } from "../durable-objects/purchase-history";
import type { AnalyticsWarehouse } from "../durable-objects/analytics-warehouse";
import type { SimilarityIndex } from "../durable-objects/similarity-index";
import type { ActivationMessage, IngestMessage, SegmentationMessage } from "./queues/messages";
import type { AiBinding } from "./copilot/workers-ai";

/** The Worker's bindings, as declared in wrangler.toml (vars arrive as strings). */
export type Bindings = {
  DB: D1Database;
  RATE_LIMIT_BUCKET: DurableObjectNamespace<RateLimitBucket>;
  JOB_PROGRESS: DurableObjectNamespace<JobProgress>;
  PURCHASE_HISTORY: DurableObjectNamespace<PurchaseHistory>;
  ANALYTICS_WAREHOUSE: DurableObjectNamespace<AnalyticsWarehouse>;
  SIMILARITY_INDEX: DurableObjectNamespace<SimilarityIndex>;
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
  SSE_HEARTBEAT_SECONDS?: string;
  JWT_SECRET: string;
  RATE_LIMIT_MAX: string;
  RATE_LIMIT_WINDOW_SECONDS: string;
  CONTACT_RATE_LIMIT_MAX: string;
  CONTACT_RATE_LIMIT_WINDOW_SECONDS: string;
  SIGN_IN_FAILURE_MAX?: string;
  SIGN_IN_FAILURE_WINDOW_SECONDS?: string;
  SESSION_TTL_SECONDS: string;
  /** Origins browser apps may call from (comma separated; `*` as the port matches any port). */
  CORS_ALLOWED_ORIGINS?: string;
  /** "parser" (default) or "workers-ai" (needs the AI binding; the grammar stays the fallback) */
  COPILOT_ENGINE?: string;
  /** Workers AI, bound with `[ai] binding = "AI"` in production only (see wrangler.toml) */
  AI?: AiBinding;
  /** secrets; absent locally, where Stripe-backed billing answers 503 billing_unavailable */
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  /** where Stripe Checkout and the Billing Portal send the user back to (default: the API's origin) */
  APP_URL?: string;
  /** Keys that seal connector secrets: `version:hex` pairs, comma separated; the first seals, all open. */
  CONNECTOR_ENCRYPTION_KEYS?: string;
  /** "true" lets local runs and benchmarks deliver to loopback over http; must stay "false" in production. */
  OUTBOUND_ALLOW_LOOPBACK?: string;
  /** DNS-over-HTTPS endpoint (JSON API) that resolves tenants' webhook hosts before each request. */
  OUTBOUND_DNS_RESOLVER?: string;
  /** Where /similar searches: "index" (default, the project's SimilarityIndex) or "d1-scan" (the reference, small projects only) */
  VECTOR_STORE?: string;
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
    signInFailureLimit: {
      max: positiveInt(env.SIGN_IN_FAILURE_MAX, 10),
      windowSeconds: positiveInt(env.SIGN_IN_FAILURE_WINDOW_SECONDS, 900),
    },
    sessionTtlSeconds: positiveInt(env.SESSION_TTL_SECONDS, 30 * 24 * 3600),
    segmentationDelaySeconds: nonNegativeInt(env.SEGMENTATION_DELAY_SECONDS, 5),
    meterFlushMs: nonNegativeInt(env.METER_FLUSH_MS, 1000),
    sseHeartbeatSeconds: positiveInt(env.SSE_HEARTBEAT_SECONDS, 15),
    outboundAllowLoopback: env.OUTBOUND_ALLOW_LOOPBACK === "true",
    outboundDnsResolver: env.OUTBOUND_DNS_RESOLVER || "https://cloudflare-dns.com/dns-query",
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
