import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meterRequest } from "../../src/analytics/request-meter";

describe("API-request metering", () => {
  it("buffers a burst and writes it in one batch after the flush delay", async () => {
    const organizationId = `org_${crypto.randomUUID()}`;
    const pending: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => pending.push(p) };
    const meteredEnv = { ...env, METER_FLUSH_MS: "30" };
    for (let i = 0; i < 3; i++) meterRequest(meteredEnv, ctx, { organizationId, type: "api_request", value: 1, detail: `GET /x/${i}` });
    // One write scheduled for the whole burst, nothing written before it runs.
    expect(pending).toHaveLength(1);
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE organization_id = ?").bind(organizationId).first<{ n: number }>();
    expect(before!.n).toBe(0);
    await Promise.all(pending);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE organization_id = ?").bind(organizationId).first<{ n: number }>();
    expect(after!.n).toBe(3);
    // The next request opens a new window.
    meterRequest(meteredEnv, ctx, { organizationId, type: "api_request", value: 1 });
    expect(pending).toHaveLength(2);
    await Promise.all(pending);
  });
});
