import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import type { AppEnv, Bindings } from "../env";
import { config } from "../env";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/crypto";
import type { RateLimitDecision } from "../../durable-objects/rate-limit-bucket";

/**
 * Buckets this isolate knows are exhausted, until their window resets: a caller hammering past its
 * limit is refused without a round trip to its Durable Object.
 */
const exhaustedUntil = new Map<string, number>();

export type RateLimitRule = { max: number; windowSeconds: number };

/** The address the request came from: Cloudflare's header at the edge, the socket's locally. */
export function clientIp(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? c.req.header("X-Real-IP") ?? "unknown";
}

/** The global limit: per Authorization value, or per client IP for anonymous requests. */
export function rateLimit() {
  return createMiddleware<AppEnv>(async function rateLimit(c, next) {
    const authorization = c.req.header("Authorization");
    const subject = authorization ? `auth:${authorization}` : `ip:${clientIp(c)}`;
    const decision = await enforce(c, subject, config(c.env).rateLimit);
    await next();
    // Set again after the handler: a handler that built its own Response did not see the first set.
    setRateLimitHeaders(c, decision);
  });
}

/** A tighter limit for one route (contact form), counted per client IP in its own bucket. */
export function routeRateLimit(name: string, rule: (env: Bindings) => RateLimitRule) {
  return createMiddleware<AppEnv>(async function routeRateLimit(c, next) {
    await enforce(c, `${name}:ip:${clientIp(c)}`, rule(c.env), { headers: false });
    await next();
  });
}

async function enforce(
  c: Context<AppEnv>,
  subject: string,
  rule: RateLimitRule,
  { headers } = { headers: true },
): Promise<RateLimitDecision> {
  // The raw Authorization value is a secret; only its hash names the bucket.
  const bucket = await sha256Hex(subject);
  const now = Date.now();
  const blockedUntil = exhaustedUntil.get(bucket);
  let decision: RateLimitDecision;
  if (blockedUntil !== undefined && blockedUntil > now) {
    decision = { allowed: false, limit: rule.max, remaining: 0, resetSeconds: Math.ceil((blockedUntil - now) / 1000) };
  } else {
    if (blockedUntil !== undefined) exhaustedUntil.delete(bucket);
    const stub = c.env.RATE_LIMIT_BUCKET.get(c.env.RATE_LIMIT_BUCKET.idFromName(bucket));
    decision = await stub.hit(rule.max, rule.windowSeconds);
    if (!decision.allowed) exhaustedUntil.set(bucket, now + decision.resetSeconds * 1000);
  }
  if (headers) setRateLimitHeaders(c, decision);
  if (!decision.allowed) {
    c.header("Retry-After", String(decision.resetSeconds));
    throw new ApiError("rate_limited", undefined, { retryAfter: decision.resetSeconds });
  }
  return decision;
}

function setRateLimitHeaders(c: Context, decision: RateLimitDecision) {
  c.header("RateLimit-Limit", String(decision.limit));
  c.header("RateLimit-Remaining", String(decision.remaining));
  c.header("RateLimit-Reset", String(decision.resetSeconds));
}
