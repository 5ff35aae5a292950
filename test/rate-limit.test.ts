import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { sha256Hex } from "../src/lib/crypto";
import { expectError, unique } from "./helpers";

/** The Worker with small limits from config, as an operator would set them. */
async function fetchWithLimits(path: string, headers: Record<string, string>, limits: Partial<Record<string, string>> = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://localhost${path}`, { headers }) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_SECONDS: "60", ...limits },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("rate limiting", () => {
  it("counts exactly per Authorization value and answers 429 with Retry-After past the limit", async () => {
    const headers = { Authorization: `Bearer ${unique("token")}` };
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetchWithLimits("/health", headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit-Limit")).toBe("3");
      remaining.push(res.headers.get("RateLimit-Remaining")!);
      expect(Number(res.headers.get("RateLimit-Reset"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("RateLimit-Reset"))).toBeLessThanOrEqual(60);
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const limited = await fetchWithLimits("/health", headers);
    const body = await expectError(limited, 429, "rate_limited");
    expect(body.error).toMatch(/retry/i);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.headers.get("RateLimit-Remaining")).toBe("0");
    // Another credential has its own bucket.
    expect((await fetchWithLimits("/health", { Authorization: `Bearer ${unique("other")}` })).status).toBe(200);
  });

  it("keeps counts exact under concurrency (one Durable Object serializes a key)", async () => {
    const headers = { Authorization: `Bearer ${unique("burst")}` };
    const results = await Promise.all(Array.from({ length: 20 }, () => fetchWithLimits("/health", headers, { RATE_LIMIT_MAX: "7" })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(results.filter((r) => r.status === 429)).toHaveLength(13);
  });

  it("buckets anonymous requests by client IP", async () => {
    const ip = `10.${Math.floor(Math.random() * 255)}.0.1`;
    for (let i = 0; i < 3; i++) expect((await fetchWithLimits("/health", { "CF-Connecting-IP": ip })).status).toBe(200);
    await expectError(await fetchWithLimits("/health", { "CF-Connecting-IP": ip }), 429, "rate_limited");
    expect((await fetchWithLimits("/health", { "CF-Connecting-IP": `${ip}0` })).status).toBe(200);
  });

  it("limits unknown routes and errors too, with headers on every response", async () => {
    const headers = { Authorization: `Bearer ${unique("t")}` };
    const res = await fetchWithLimits("/nowhere", headers);
    expect(res.status).toBe(404);
    expect(res.headers.get("RateLimit-Remaining")).toBe("2");
  });

  it("names the bucket by a hash of the credential, and an alarm clears a finished window", async () => {
    const token = `Bearer ${unique("secret")}`;
    await fetchWithLimits("/health", { Authorization: token }, { RATE_LIMIT_WINDOW_SECONDS: "1" });
    const id = env.RATE_LIMIT_BUCKET.idFromName(await sha256Hex(`auth:${token}`));
    const stub = env.RATE_LIMIT_BUCKET.get(id);
    const before = await runInDurableObject(stub, (_, state) => state.storage.kv.get<{ count: number }>("window"));
    expect(before?.count).toBe(1);
    // An alarm run before the window ends keeps the count and re-arms itself.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    expect((await runInDurableObject(stub, (_, state) => state.storage.kv.get<{ count: number }>("window")))?.count).toBe(1);
    await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(stub);
        expect(await runInDurableObject(stub, (_, state) => state.storage.kv.get("window"))).toBeUndefined();
      },
      { timeout: 5000, interval: 200 },
    );
  });
});
