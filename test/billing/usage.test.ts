import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json, signUp, tenant } from "../helpers";
import { deliver, nowSeconds, stripeEvent, subscription } from "./stripe-fake";
import { database } from "../../src/db/client";
import { consumeCounter, usagePeriod } from "../../src/services/usage-counters";
import { ApiError } from "../../src/errors";

const usageOf = async (token: string, orgId: string) => json(await call("GET", `/api/organizations/${orgId}/usage`, { token }));

async function completedFile(t: Awaited<ReturnType<typeof tenant>>, rows: number, bytes: number, at = Date.now()) {
  await env.DB.prepare(
    "INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, row_count, status, created_at, updated_at) VALUES (?, ?, ?, 'upload', 'csv', 'f.csv', 'k', ?, ?, 'completed', ?, ?)",
  )
    .bind(crypto.randomUUID(), t.project.id, t.organization.id, bytes, rows, at, at)
    .run();
}

describe("GET /api/organizations/:orgId/usage", () => {
  it("reports the seed's metrics for the calendar month on free, -1 for nothing unlimited", async () => {
    const t = await tenant();
    await completedFile(t, 1000, 1024 ** 3 / 4, Date.now() - 30 * 86400_000);
    const usage = await usageOf(t.owner.token, t.organization.id);
    const now = new Date();
    expect(usage.plan).toBe("free");
    expect(usage.period_start).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    expect(usage.period_end).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    expect(usage.data).toEqual({
      rows: { used: 1000, limit: 500000, forecast_exhausted_at: null, thresholds: [] },
      profiles: { used: 0, limit: 5000, forecast_exhausted_at: null, thresholds: [] },
      automations: { used: 0, limit: 2, forecast_exhausted_at: null, thresholds: [] },
      modelRuns: { used: 0, limit: 5, forecast_exhausted_at: null, thresholds: [] },
      genaiOps: { used: 0, limit: 5, forecast_exhausted_at: null, thresholds: [] },
      storageGb: { used: 0.25, limit: 0.5, forecast_exhausted_at: null, thresholds: [] },
      teamSeats: { used: 1, limit: 1, forecast_exhausted_at: expect.any(String), thresholds: [{ percent: 80, crossed_at: expect.any(String) }, { percent: 100, crossed_at: expect.any(String) }] },
    });
  });

  it("on a paid plan counts in the subscription's monthly cycle, forecasts at the last 7 days' rate and records each threshold once", async () => {
    const t = await tenant();
    const sub = `sub_${crypto.randomUUID().slice(0, 8)}`;
    const periodStart = nowSeconds() - 86400;
    await deliver(stripeEvent("customer.subscription.created", subscription({ id: sub, customer: `cus_${sub}`, organizationId: t.organization.id, plan: "starter", periodStart, periodEnd: periodStart + 31 * 86400 }), nowSeconds() - 5));
    const before = await usageOf(t.owner.token, t.organization.id);
    expect(before).toMatchObject({ plan: "starter", period_start: new Date(periodStart * 1000).toISOString() });
    // 8.5M rows this week of a 10M quota: 85%, and the rest goes in under two days at this rate.
    await completedFile(t, 8_500_000, 1000);
    await env.DB.prepare("INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?, ?, 3, 50)").bind(t.organization.id, before.period_start).run();
    const usage = await usageOf(t.owner.token, t.organization.id);
    expect(usage.data.rows.used).toBe(8_500_000);
    const forecast = Date.parse(usage.data.rows.forecast_exhausted_at);
    const expected = Date.now() + (1_500_000 / 8_500_000) * 7 * 86400_000;
    expect(Math.abs(forecast - expected)).toBeLessThan(60_000);
    expect(usage.data.rows.thresholds).toEqual([{ percent: 80, crossed_at: expect.any(String) }]);
    expect(usage.data.genaiOps).toMatchObject({ used: 50, limit: 50, thresholds: [{ percent: 80 }, { percent: 100 }] });
    expect(usage.data.modelRuns).toMatchObject({ used: 3, limit: 50, thresholds: [] });
    // Asked again: the marks keep their first time, one row each.
    const again = await usageOf(t.owner.token, t.organization.id);
    expect(again.data.rows.thresholds).toEqual(usage.data.rows.thresholds);
    const rows = await env.DB.prepare("SELECT metric, threshold FROM usage_thresholds WHERE organization_id = ? ORDER BY metric, threshold").bind(t.organization.id).all();
    expect(rows.results).toEqual([
      { metric: "genaiOps", threshold: 80 },
      { metric: "genaiOps", threshold: 100 },
      { metric: "rows", threshold: 80 },
    ]);
  });

  it("404 for another tenant's organization", async () => {
    const [a, b] = [await tenant(), await tenant()];
    await expectError(await call("GET", `/api/organizations/${b.organization.id}/usage`, { token: a.owner.token }), 404, "not_found");
  });
});

describe("quotas", () => {
  it("of concurrent requests for the last unit of a monthly quota, exactly one gets it", async () => {
    const t = await tenant();
    await env.DB.prepare("INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?, ?, 0, 4)").bind(t.organization.id, usagePeriod()).run();
    const db = database(env.DB);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => consumeCounter(db, env.DB, t.organization.id, "genaiOps")));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => o.reason as ApiError);
    expect(refused).toHaveLength(7);
    for (const error of refused) {
      expect(error.code).toBe("quota_exceeded");
      expect(error.detail).toEqual({ quota: "genaiOps", plan: "free", used: 5, limit: 5, adding: 1, upgrade_to: "starter" });
    }
    const row = await env.DB.prepare("SELECT genai_ops FROM usage_counters WHERE organization_id = ? AND period = ?").bind(t.organization.id, usagePeriod()).first();
    expect(row).toEqual({ genai_ops: 5 });
    // The winning take recorded the marks it reached (the 80% one too: the counter was set directly), once.
    const marks = await env.DB.prepare("SELECT metric, threshold, used FROM usage_thresholds WHERE organization_id = ? ORDER BY threshold").bind(t.organization.id).all();
    expect(marks.results).toEqual([
      { metric: "genaiOps", threshold: 80, used: 5 },
      { metric: "genaiOps", threshold: 100, used: 5 },
    ]);
    // An amount larger than the whole quota is refused without touching the counter.
    const other = await tenant();
    await expect(consumeCounter(db, env.DB, other.organization.id, "modelRuns", 6)).rejects.toMatchObject({ code: "quota_exceeded", detail: { used: 0, limit: 5, adding: 6 } });
  });

  it("of two invitations racing for the last team seat, one gets it", async () => {
    const t = await tenant();
    await env.DB.prepare("UPDATE organizations SET plan = 'starter' WHERE id = ?").bind(t.organization.id).run();
    const users = await Promise.all(Array.from({ length: 5 }, () => signUp()));
    for (const u of users.slice(0, 3)) {
      expect((await call("POST", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token, body: { email: u.email, role: "member" } })).status).toBe(201);
    }
    const raced = await Promise.all(users.slice(3).map((u) => call("POST", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token, body: { email: u.email, role: "member" } })));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 429]);
    const refused = await json(raced.find((r) => r.status === 429)!);
    expect(refused).toMatchObject({ code: "quota_exceeded", detail: { quota: "teamSeats", plan: "starter", used: 5, limit: 5, upgrade_to: "pro" } });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM members WHERE organization_id = ?").bind(t.organization.id).first()).toEqual({ n: 5 });
  });

  it("names the quota, use, limit and the plan that lifts it, distinct from rate_limited", async () => {
    const t = await tenant();
    await completedFile(t, 499_999, 1);
    const records = [1, 2].map((i) => ({ customer_id: `c${i}`, order_date: "2026-01-01", amount: 1 }));
    const body = await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records } }), 429, "quota_exceeded");
    expect(body.detail).toEqual({ quota: "rows", plan: "free", used: 499_999, limit: 500_000, adding: 2, upgrade_to: "starter" });
  });
});

describe("rows quota for batches finishing at once", () => {
  it("gives the last rows to one of them; a failed file gives its claim back", async () => {
    const { claimRows } = await import("../../src/services/quotas");
    const t = await tenant();
    await completedFile(t, 500_000 - 3, 1);
    const processing = async () => {
      const id = crypto.randomUUID();
      await env.DB.prepare(
        "INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, status, created_at, updated_at) VALUES (?, ?, ?, 'ingest', 'csv', 'b.csv', 'k', 1, 'processing', ?, ?)",
      )
        .bind(id, t.project.id, t.organization.id, Date.now(), Date.now())
        .run();
      return id;
    };
    const [a, b] = [await processing(), await processing()];
    const db = database(env.DB);
    const outcomes = await Promise.allSettled([claimRows(db, t.organization.id, a, 2), claimRows(db, t.organization.id, b, 2)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected")!.reason as ApiError;
    expect(refused.detail).toEqual({ quota: "rows", plan: "free", used: 500_000 - 1, limit: 500_000, adding: 2, upgrade_to: "starter" });
    const winner = outcomes[0]!.status === "fulfilled" ? a : b;
    const loser = winner === a ? b : a;
    await env.DB.prepare("UPDATE files SET status = 'failed' WHERE id = ?").bind(winner).run();
    await claimRows(db, t.organization.id, loser, 3);
  });
});

describe("storage quota under concurrent uploads", () => {
  it("lets only the uploads that fit, in the order they were written, keep the last bytes; the refused leave nothing", async () => {
    const { upload } = await import("../ingest/helpers");
    const t = await tenant();
    const limit = 0.5 * 1024 ** 3;
    // Three files of one size and different content (identical content would be a duplicate_file 409).
    const csvOf = (customer: string) => `customer_id,order_date,amount\n${customer},2025-01-01,1\n`;
    const size = new TextEncoder().encode(csvOf("A")).byteLength;
    await completedFile(t, 1, limit - size - 10);
    const results = await Promise.all(["A", "B", "C"].map((customer) => upload(t.owner.token, t.project.id, "x.csv", csvOf(customer))));
    expect(results.map((r) => r.status).sort()).toEqual([202, 429, 429]);
    for (const res of results.filter((r) => r.status === 429)) {
      expect((await json(res)).detail).toMatchObject({ quota: "storage", plan: "free", limit, adding: size, upgrade_to: "starter" });
    }
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n, SUM(size_bytes) AS bytes FROM files WHERE organization_id = ?").bind(t.organization.id).first<{ n: number; bytes: number }>();
    expect(stored).toEqual({ n: 2, bytes: limit - 10 });
    const jobs = await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs WHERE organization_id = ? AND type = 'ingest'").bind(t.organization.id).first();
    expect(jobs).toEqual({ n: 1 });
    const objects = await env.FILES.list({ prefix: `projects/${t.project.id}/` });
    expect(objects.objects).toHaveLength(1);
  });
});
