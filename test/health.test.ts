import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /health", () => {
  it("answers ok, with the rate-limit headers every response carries", async () => {
    const res = await exports.default.fetch("http://localhost/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(res.headers.get("RateLimit-Limit")).toBe(env.RATE_LIMIT_MAX);
    expect(Number(res.headers.get("RateLimit-Remaining"))).toBeLessThan(Number(env.RATE_LIMIT_MAX));
  });
});
