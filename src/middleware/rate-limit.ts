import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import type { AppEnv, Bindings } from "../env";
import { config } from "../env";
import { ApiError } from "../errors";
import { resolveCredential } from "./auth";
import type { Grant } from "../../durable-objects/rate-limit-bucket";

export type RateLimitRule = { max: number; windowSeconds: number };

export type RateLimitDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** seconds until a request is allowed again: 0 while `remaining` > 0 */
  resetSeconds: number;
};

/** A lease ends after at most this long, so unspent units stop being held soon after an isolate goes quiet. */
const LEASE_MS = 1_000;
/**
 * A lease is spent locally only until this share of its length is left: Workers' clock stands still
 * while code runs, so a local "now" can lag the real time by the time spent since the last I/O.
 */
const LEASE_MARGIN_SHARE = 0.1;
/** The largest lease an isolate asks for, whatever its request rate. */
const MAX_LEASE = 100;

/** One bucket as this isolate sees it: the lease it holds, and enough history to size the next one. */
type LocalBucket = {
  leaseId: number | null;
  leaseUnits: number;
  /** local time until which the lease may be spent (measured from before the grant was asked for) */
  leaseUntil: number;
  /** what the Durable Object said was left for everyone else when it granted the lease */
  remainingElsewhere: number;
  /** local time until which the Durable Object refuses: answered here without asking it */
  blockedUntil: number;
  retryAt: number;
  acquiredAt: number;
  servedSinceAcquire: number;
  /** the round trip in flight, which requests arriving meanwhile wait for instead of starting another */
  inFlight: Promise<void> | null;
};

const localBuckets = new Map<string, LocalBucket>();

/** The address the request came from: Cloudflare's header at the edge, the socket's locally. */
export function clientIp(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? c.req.header("X-Real-IP") ?? "unknown";
}

/**
 * The global limit, on every route, /health included (so every response carries the headers and no
 * path is unmetered): per API key, or per user for a session (every sign-in of a user shares one bucket),, however the header is
 * spelled; a missing, unparseable or unknown credential counts against the client IP.
 */
export function rateLimit() {
  return createMiddleware<AppEnv>(async function rateLimit(c, next) {
    const decision = await enforce(c, await subjectOf(c), config(c.env).rateLimit);
    await next();
    // Set again after the handler: a handler that built its own Response did not see the first set.
    setRateLimitHeaders(c, decision);
  });
}

async function subjectOf(c: Context<AppEnv>): Promise<string> {
  const credential = await resolveCredential(c);
  if (credential.kind === "apiKey") return `key:${credential.key.id}`;
  // By user, not session: each sign-in opens a new session, which must not bring a fresh bucket.
  if (credential.kind === "session") return `user:${credential.claims.userId}`;
  return `ip:${clientIp(c)}`;
}

/** A tighter limit for one route (contact form), counted per client IP in its own bucket. */
export function routeRateLimit(name: string, rule: (env: Bindings) => RateLimitRule) {
  return createMiddleware<AppEnv>(async function routeRateLimit(c, next) {
    await enforce(c, `${name}:ip:${clientIp(c)}`, rule(c.env), { headers: false });
    await next();
  });
}

/**
 * Takes one attempt from a bucket that counts failures (failed sign-ins for an email): refused with
 * 429 once `rule.max` attempts in the window were kept. The caller keeps the attempt when it failed and
 * gives it back with `release` when it did not, so concurrent attempts cannot exceed the limit.
 */
export async function takeAttempt(c: Context<AppEnv>, subject: string, rule: RateLimitRule): Promise<{ release(): void }> {
  const stub = bucketStub(c.env, subject);
  const grant = await stub.acquire({ limit: rule.max, windowMs: rule.windowSeconds * 1000, now: 1, lease: 0, leaseMs: 0 });
  if (grant.granted === 0) refuse(c, secondsUntil(grant.retryInMs));
  return {
    release: () => c.executionCtx.waitUntil(stub.release(grant.grantId!, 1)),
  };
}

async function enforce(c: Context<AppEnv>, subject: string, rule: RateLimitRule, { headers } = { headers: true }) {
  const decision = await admit(c.env, subject, rule);
  if (headers) setRateLimitHeaders(c, decision);
  if (!decision.allowed) refuse(c, decision.resetSeconds);
  return decision;
}

function refuse(c: Context, retryAfter: number): never {
  c.header("Retry-After", String(retryAfter));
  throw new ApiError("rate_limited", undefined, { retryAfter });
}

/**
 * Admits one request against a bucket. A request spends a unit of this isolate's lease when it holds
 * one; otherwise it asks the bucket's Durable Object for a unit, plus a lease sized to the rate this
 * isolate has been serving the bucket at, so a busy caller needs a round trip only now and then.
 * Requests arriving while a round trip is in flight wait for it and then spend from its lease.
 */
async function admit(env: Bindings, subject: string, rule: RateLimitRule): Promise<RateLimitDecision> {
  const windowMs = rule.windowSeconds * 1000;
  const name = `${subject}|${rule.max}|${windowMs}`;
  let local = localBuckets.get(name);
  if (!local) {
    local = {
      leaseId: null,
      leaseUnits: 0,
      leaseUntil: 0,
      remainingElsewhere: 0,
      blockedUntil: 0,
      retryAt: 0,
      acquiredAt: 0,
      servedSinceAcquire: 0,
      inFlight: null,
    };
    localBuckets.set(name, local);
    pruneLocalBuckets();
  }
  for (;;) {
    const now = Date.now();
    if (local.blockedUntil > now) return { allowed: false, limit: rule.max, remaining: 0, resetSeconds: secondsUntil(local.blockedUntil - now) };
    if (local.leaseUnits > 0 && now < local.leaseUntil) {
      local.leaseUnits -= 1;
      local.servedSinceAcquire += 1;
      return decisionFrom(local, rule.max, now);
    }
    if (!local.inFlight) break;
    await local.inFlight;
  }

  // This request asks; the others arriving meanwhile wait for its answer.
  let admitted!: RateLimitDecision;
  const bucket = local;
  bucket.inFlight = (async () => {
    const askedAt = Date.now();
    const leaseMs = Math.min(LEASE_MS, Math.floor(windowMs / 100));
    const returned = bucket.leaseId !== null && bucket.leaseUnits > 0 ? { leaseId: bucket.leaseId, units: bucket.leaseUnits } : undefined;
    const grant = await bucketStub(env, subject).acquire({
      limit: rule.max,
      windowMs,
      now: 1,
      lease: leaseMs > 0 ? leaseWanted(bucket, askedAt, leaseMs) : 0,
      leaseMs,
      returned,
    });
    adoptGrant(bucket, grant, askedAt, leaseMs);
    admitted =
      grant.granted > 0
        ? decisionFrom(bucket, rule.max, askedAt)
        : { allowed: false, limit: rule.max, remaining: 0, resetSeconds: secondsUntil(grant.retryInMs) };
  })().finally(() => {
    bucket.inFlight = null;
  });
  await bucket.inFlight;
  return admitted;
}

/** Units to ask on lease: what this isolate served for the bucket over the last lease's length, at its recent rate. */
function leaseWanted(local: LocalBucket, now: number, leaseMs: number): number {
  if (local.acquiredAt === 0) return 0;
  const rate = (local.servedSinceAcquire + 1) / Math.max(1, now - local.acquiredAt);
  return Math.min(MAX_LEASE, Math.floor(rate * leaseMs));
}

function adoptGrant(local: LocalBucket, grant: Grant, askedAt: number, leaseMs: number) {
  local.acquiredAt = askedAt;
  local.servedSinceAcquire = grant.granted;
  local.leaseId = grant.leaseId;
  local.leaseUnits = grant.leased;
  // Measured from before the question: the lease's end as logged by the Durable Object is no earlier.
  local.leaseUntil = askedAt + leaseMs * (1 - LEASE_MARGIN_SHARE);
  local.remainingElsewhere = grant.remaining;
  local.retryAt = askedAt + grant.retryInMs;
  // Refused: no unit frees before retryInMs (units given back early by other isolates wait that long).
  local.blockedUntil = grant.granted === 0 ? askedAt + grant.retryInMs : 0;
}

function decisionFrom(local: LocalBucket, limit: number, now: number): RateLimitDecision {
  const remaining = local.remainingElsewhere + local.leaseUnits;
  return { allowed: true, limit, remaining, resetSeconds: remaining > 0 ? 0 : secondsUntil(local.retryAt - now) };
}

const secondsUntil = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function bucketStub(env: Bindings, subject: string) {
  return env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(subject));
}

/** Forgets buckets with nothing held and nothing pending, once the map grows large. */
function pruneLocalBuckets() {
  if (localBuckets.size < 10_000) return;
  const now = Date.now();
  for (const [name, local] of localBuckets) {
    if (!local.inFlight && local.blockedUntil <= now && (local.leaseUnits === 0 || local.leaseUntil <= now)) localBuckets.delete(name);
  }
}

function setRateLimitHeaders(c: Context, decision: RateLimitDecision) {
  c.header("RateLimit-Limit", String(decision.limit));
  c.header("RateLimit-Remaining", String(decision.remaining));
  c.header("RateLimit-Reset", String(decision.resetSeconds));
}
