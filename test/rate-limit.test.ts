import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { RateLimitBucket, type AcquireRequest } from "../durable-objects/rate-limit-bucket";
import { call, expectError, json, signUp, tenant, unique } from "./helpers";

type Limits = Partial<Record<string, string>>;

/** The Worker with small limits from config, as an operator would set them. */
async function fetchWithLimits(path: string, headers: Record<string, string>, limits: Limits = {}, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://localhost${path}`, { ...init, headers }) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_SECONDS: "60", ...limits },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const randomIp = () => `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rate limiting: one bucket per resolved credential", { timeout: 20_000 }, () => {
  it("counts an API key exactly, however the Authorization header is spelled, and answers 429 with Retry-After", async () => {
    const { project, apiKey } = await tenant();
    const path = `/api/projects/${project.id}`;
    const spellings = [`Bearer ${apiKey.key}`, `Bearer  ${apiKey.key}`, `bearer ${apiKey.key}`, `Bearer\t${apiKey.key}`, `BEARER ${apiKey.key}  `];
    const answers: Array<[number, string | null, string | null]> = [];
    for (const authorization of spellings) {
      const res = await fetchWithLimits(path, { Authorization: authorization, "CF-Connecting-IP": randomIp() });
      answers.push([res.status, res.headers.get("RateLimit-Remaining"), res.headers.get("RateLimit-Limit")]);
      if (res.status === 429) {
        await expectError(res, 429, "rate_limited");
        expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(55);
        expect(res.headers.get("RateLimit-Reset")).toBe(res.headers.get("Retry-After"));
      }
    }
    expect(answers).toEqual([
      [200, "2", "3"],
      [200, "1", "3"],
      [200, "0", "3"],
      [429, "0", "3"],
      [429, "0", "3"],
    ]);
    // Another key has its own bucket.
    const other = await tenant();
    expect((await fetchWithLimits(`/api/projects/${other.project.id}`, { Authorization: `Bearer ${other.apiKey.key}` })).status).toBe(200);
  });

  it("counts a session once whether it comes as a Bearer token or as the cookie", async () => {
    const user = await signUp();
    const viaHeader = await fetchWithLimits("/api/auth/session", { Authorization: `bearer   ${user.token}` });
    expect(viaHeader.headers.get("RateLimit-Remaining")).toBe("2");
    const viaCookie = await fetchWithLimits("/api/auth/session", { Cookie: `segmento_session=${user.token}` });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.headers.get("RateLimit-Remaining")).toBe("1");
    // A new sign-in is a new session of the same user: same bucket, no fresh limit.
    const again = await json(await call("POST", "/api/auth/sign-in/email", { body: { email: user.email, password: user.password } }));
    const viaNewSession = await fetchWithLimits("/api/auth/session", { Authorization: `Bearer ${again.token}` });
    expect(viaNewSession.headers.get("RateLimit-Remaining")).toBe("0");
  });

  it("counts unknown and unparseable credentials against the client IP, so rotating them gains nothing", async () => {
    const ip = randomIp();
    const junk = [`Bearer guess${unique()}`, `Bearer sk_live_${"0".repeat(64)}`, `Basic ${unique()}`, `Bearer ${unique()}.${unique()}.x`];
    const statuses = [];
    for (const authorization of junk) statuses.push((await fetchWithLimits("/health", { Authorization: authorization, "CF-Connecting-IP": ip })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Neither a fresh junk credential nor none at all from that IP gets through; another IP does.
    await expectError(await fetchWithLimits("/health", { Authorization: `Bearer guess${unique()}`, "CF-Connecting-IP": ip }), 429, "rate_limited");
    await expectError(await fetchWithLimits("/health", { "CF-Connecting-IP": ip }), 429, "rate_limited");
    expect((await fetchWithLimits("/health", { Authorization: `Bearer guess${unique()}`, "CF-Connecting-IP": randomIp() })).status).toBe(200);
  });

  it("keeps counts exact under concurrency (requests wait for the bucket's answer in flight)", async () => {
    const headers = { "CF-Connecting-IP": randomIp() };
    const results = await Promise.all(Array.from({ length: 20 }, () => fetchWithLimits("/health", headers, { RATE_LIMIT_MAX: "7" })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(results.filter((r) => r.status === 429)).toHaveLength(13);
  });

  it("limits unknown routes and errors too, with headers on every response", async () => {
    const res = await fetchWithLimits("/nowhere", { "CF-Connecting-IP": randomIp() });
    expect(res.status).toBe(404);
    expect(res.headers.get("RateLimit-Remaining")).toBe("2");
  });
});

describe("rate limiting: an exact sliding window", { timeout: 20_000 }, () => {
  it("admits a request again only as the oldest leaves the window, never a fresh window's worth", async () => {
    const headers = { "CF-Connecting-IP": randomIp() };
    const limits = { RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_SECONDS: "2" };
    const first = await fetchWithLimits("/health", headers, limits);
    expect([first.status, first.headers.get("RateLimit-Reset")]).toEqual([200, "0"]);
    await sleep(1000);
    expect((await fetchWithLimits("/health", headers, limits)).status).toBe(200);
    const third = await fetchWithLimits("/health", headers, limits);
    // The last unit: a request is allowed again when the first one (about 1 s ago) leaves the window.
    expect([third.status, third.headers.get("RateLimit-Remaining"), third.headers.get("RateLimit-Reset")]).toEqual([200, "0", "1"]);
    const refused = await fetchWithLimits("/health", headers, limits);
    expect([refused.status, refused.headers.get("Retry-After")]).toEqual([429, "1"]);
    await sleep(1100);
    // A fixed window would have started over here and admitted three; the sliding window frees one.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetchWithLimits("/health", headers, limits)).status);
    expect(statuses).toEqual([200, 429, 429]);
  });

  it("never lets any window-long span hold more than the limit, leases included (bucket given random traffic)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limit: fc.integer({ min: 1, max: 60 }),
          windowMs: fc.integer({ min: 50, max: 2_000 }),
          leaseMs: fc.integer({ min: 1, max: 300 }),
          asks: fc.array(
            fc.record({
              // Bursts (no gap), steady traffic and pauses near the window's length, where a loose limiter leaks.
              gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2_000 })),
              lease: fc.integer({ min: 0, max: 40 }),
              spendShare: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
            }),
            { minLength: 1, maxLength: 150 },
          ),
        }),
        async ({ limit, windowMs, leaseMs, asks }) => {
          const stub = env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(unique("property")));
          const spentAt: number[] = [];
          let now = 1_000_000;
          for (const ask of asks) {
            now += ask.gapMs;
            const request: AcquireRequest = { limit, windowMs, now: 1, lease: ask.lease, leaseMs };
            const grant = await stub.acquire(request, now);
            if (grant.granted === 1) spentAt.push(now);
            // Leased units are spent at any moment of the lease, the last one at its very end.
            const spent = Math.round(grant.leased * ask.spendShare);
            for (let i = 0; i < spent; i++) spentAt.push(now + Math.floor(((i + 1) / spent) * leaseMs));
            if (grant.leaseId !== null && spent < grant.leased) {
              // Given back as soon as asked: when does not matter, since these units are never spent.
              await stub.acquire({ ...request, now: 0, lease: 0, returned: { leaseId: grant.leaseId, units: grant.leased - spent } }, now);
            }
            expect(grant.granted + grant.leased + grant.remaining).toBeLessThanOrEqual(limit);
          }
          spentAt.sort((a, b) => a - b);
          for (let i = 0; i < spentAt.length; i++) {
            const inWindow = spentAt.filter((t) => t >= spentAt[i]! && t < spentAt[i]! + windowMs).length;
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);
});

describe("rate limiting: leases", () => {
  it("counts a leased unit until its lease ends, so one spent late cannot be counted twice over", async () => {
    const stub = env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(unique("lease")));
    const ask = (now: number, lease = 0) => stub.acquire({ limit: 100, windowMs: 1_000, now: 1, lease, leaseMs: 100 }, now);
    const leased = await ask(0, 40);
    expect([leased.granted, leased.leased]).toEqual([1, 9]);
    // The 9 leased units are spent at the lease's end (t = 100); 90 more requests come right after.
    let admitted = 0;
    for (let i = 0; i < 95; i++) admitted += (await ask(101)).granted;
    expect(admitted).toBe(90);
    // At t = 1001 only the unit of t = 0 has left the window [100, 1100): one more, not ten.
    admitted = 0;
    for (let i = 0; i < 10; i++) admitted += (await ask(1001)).granted;
    expect(admitted).toBe(1);
    const refused = await ask(1001);
    expect(refused.retryInMs).toBe(1_100 - 1_001);
  });

  it("serves a busy caller mostly from a local lease, still admitting exactly the limit", async () => {
    const { project, apiKey } = await tenant();
    const limits = { RATE_LIMIT_MAX: "300", RATE_LIMIT_WINDOW_SECONDS: "900" };
    const statuses: number[] = [];
    const remaining: number[] = [];
    for (let i = 0; i < 330; i++) {
      const res = await fetchWithLimits(`/api/projects/${project.id}`, { Authorization: `Bearer ${apiKey.key}` }, limits);
      statuses.push(res.status);
      if (res.status === 200) remaining.push(Number(res.headers.get("RateLimit-Remaining")));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(300);
    expect(statuses.slice(300).every((s) => s === 429)).toBe(true);
    expect(remaining).toEqual(Array.from({ length: 300 }, (_, i) => 299 - i));
    const bucket = env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(`key:${apiKey.id}`));
    const rows = await runInDurableObject(bucket, (_, state) => state.storage.sql.exec<{ n: number; units: number }>("SELECT count(*) AS n, sum(units) AS units FROM grants").one());
    expect(rows.units).toBe(300);
    // Far fewer round trips than requests: most were spent from leases.
    expect(rows.n).toBeLessThan(200);
  }, 60_000);

  it("carries a fixed-window count left by the earlier version over, so a deploy admits nothing extra", async () => {
    const stub = env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(unique("legacy")));
    const grant = await runInDurableObject(stub, (_, state) => {
      const now = Date.now();
      state.storage.kv.put("window", { startedAt: now - 60_000, endsAt: now + 840_000, count: 998 });
      const restarted = new RateLimitBucket(state, env);
      return restarted.acquire({ limit: 1000, windowMs: 900_000, now: 1, lease: 0, leaseMs: 0 });
    });
    expect([grant.granted, grant.remaining]).toEqual([1, 1]);
  });

  it("an alarm clears a bucket once its log has left the window", async () => {
    const ip = randomIp();
    await fetchWithLimits("/health", { "CF-Connecting-IP": ip }, { RATE_LIMIT_WINDOW_SECONDS: "1" });
    const stub = env.RATE_LIMIT_BUCKET.get(env.RATE_LIMIT_BUCKET.idFromName(`ip:${ip}`));
    const units = () => runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ units: number | null }>("SELECT sum(units) AS units FROM grants").one().units);
    expect(await units()).toBe(1);
    await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(stub);
        expect(await units()).toBeNull();
      },
      { timeout: 5000, interval: 200 },
    );
    // The bucket works again after its storage was cleared.
    expect((await fetchWithLimits("/health", { "CF-Connecting-IP": ip }, { RATE_LIMIT_WINDOW_SECONDS: "1" })).headers.get("RateLimit-Remaining")).toBe("2");
  });
});

// Sign-ins hash passwords (PBKDF2): slow on a busy machine.
describe("failed sign-ins per email", { timeout: 30_000 }, () => {
  const signIn = (email: string, password: string, limits: Limits = {}) =>
    fetchWithLimits(
      "/api/auth/sign-in/email",
      // A fresh junk credential and IP each time: neither resets the per-email count.
      { "Content-Type": "application/json", Authorization: `Bearer guess${unique()}`, "CF-Connecting-IP": randomIp() },
      { RATE_LIMIT_MAX: "1000", ...limits },
      { method: "POST", body: JSON.stringify({ email, password }) },
    );

  it("refuses the 11th attempt after 10 failures, right password included, with rotating headers and IPs", async () => {
    const user = await signUp();
    for (let i = 0; i < 10; i++) await expectError(await signIn(user.email, `wrong-${i}-password`), 401, "invalid_credentials");
    const refused = await signIn(user.email.toUpperCase(), user.password);
    const body = await expectError(refused, 429, "rate_limited");
    expect(body.error).toMatch(/retry/i);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(800);
    // Another account is not affected.
    const other = await signUp();
    expect((await signIn(other.email, other.password)).status).toBe(200);
  });

  it("answers an email without an account exactly as one with an account", async () => {
    const user = await signUp();
    const nobody = `${unique("nobody")}@example.com`;
    const answers = async (email: string) => {
      const res = await signIn(email, "wrong-password");
      const body = await json(res);
      return { status: res.status, code: body.code, keys: Object.keys(body).sort(), retryAfter: res.headers.get("Retry-After") !== null };
    };
    for (let i = 0; i < 10; i++) expect(await answers(nobody)).toEqual(await answers(user.email));
    const [a, b] = [await answers(nobody), await answers(user.email)];
    expect(a).toEqual(b);
    expect(a.status).toBe(429);
  });

  it("does not count successful sign-ins, and admits the email again once failures leave the window", async () => {
    const user = await signUp();
    const limits = { SIGN_IN_FAILURE_MAX: "3", SIGN_IN_FAILURE_WINDOW_SECONDS: "2" };
    await expectError(await signIn(user.email, "wrong-password", limits), 401, "invalid_credentials");
    for (let i = 0; i < 5; i++) expect((await signIn(user.email, user.password, limits)).status).toBe(200);
    await expectError(await signIn(user.email, "wrong-password", limits), 401, "invalid_credentials");
    await expectError(await signIn(user.email, "wrong-password", limits), 401, "invalid_credentials");
    const refused = await signIn(user.email, user.password, limits);
    await expectError(refused, 429, "rate_limited");
    await sleep(Number(refused.headers.get("Retry-After")) * 1000 + 100);
    expect((await signIn(user.email, user.password, limits)).status).toBe(200);
  });

  it("cannot be raced past: concurrent guesses hold their attempt while the password is checked", async () => {
    const user = await signUp();
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => signIn(user.email, `wrong-${i}-password`)));
    expect(results.filter((r) => r.status === 401)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(5);
  });
});
