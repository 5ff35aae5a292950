import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { call, expectError, json, signUp, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

async function modelled() {
  const t = await tenant();
  const records = Array.from({ length: 120 }, (_, i) => ({
    customer_id: `c${i % 40}`,
    order_date: `2025-0${1 + (i % 9)}-1${i % 10}`,
    amount: 10 + (i % 40) * 3,
    country: i % 2 ? "TR" : "DE",
  }));
  await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, records)).job_id);
  await vi.waitFor(async () => expect((await json(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: t.owner.token }))).last_run?.status).toBe("completed"), { timeout: 30_000, interval: 200 });
  // A rule segment overlapping the clusters, then a rerun so the snapshot includes it.
  await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Turkey", rules: [{ field: "extra_features.country", op: "eq", value: "TR" }] } });
  const rerun = await json(await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: t.owner.token }));
  await waitForJob(t.owner.token, rerun.job_id, 30_000);
  return t;
}

describe("SegOps analytics", () => {
  let t: Tenant;
  let other: Tenant;
  beforeAll(async () => {
    [t, other] = await Promise.all([modelled(), tenant()]);
  }, 90_000);

  it("overview counts segments, members, events and AI credits", async () => {
    for (const path of ["/api/analytics/overview", "/api/analytics/overview/"]) {
      const body = await json(await call("GET", path, { token: t.apiKey.key }));
      expect(body).toMatchObject({ total_members: 40, events_30d: 120, ai_credits_used: 0, ai_credits_limit: 5 });
      expect(body.segment_count).toBeGreaterThanOrEqual(3);
    }
    const forSession = await json(await call("GET", `/api/analytics/overview?project_id=${t.project.id}`, { token: t.owner.token }));
    expect(forSession.total_members).toBe(40);
  });

  it("segments carry a trend once two days of sizes exist", async () => {
    let body = await json(await call("GET", "/api/analytics/segments", { token: t.owner.token }));
    expect(body.length).toBeGreaterThanOrEqual(3);
    expect(body.every((s: { trend: unknown[] }) => s.trend.length === 0)).toBe(true);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    for (const s of body) {
      await env.DB.prepare("INSERT INTO segment_daily_sizes (project_id, segment_id, day, size) VALUES (?, ?, ?, ?)").bind(t.project.id, s.id, yesterday, s.member_count + 1).run();
    }
    body = await json(await call("GET", "/api/analytics/segments", { token: t.owner.token }));
    const first = body[0];
    expect(first.trend).toEqual([
      { day: yesterday, count: first.member_count + 1 },
      { day: new Date().toISOString().slice(0, 10), count: first.member_count },
    ]);
  });

  it("overlap pairs the rule segment with the clusters it crosses", async () => {
    const body = await json(await call("GET", "/api/analytics/overlap", { token: t.apiKey.key }));
    expect(body.length).toBeGreaterThan(0);
    const pair = body[0];
    expect(pair.seg_a_name === "Turkey" || pair.seg_b_name === "Turkey").toBe(true);
    expect(pair.overlap_pct).toBeGreaterThan(0);
    expect(pair.overlap_pct).toBeLessThanOrEqual(100);
    for (let i = 1; i < body.length; i++) expect(body[i - 1].overlap).toBeGreaterThanOrEqual(body[i].overlap);
  });

  it("activations are empty until automations exist; copilot reports zeros", async () => {
    expect(await json(await call("GET", "/api/analytics/activations", { token: t.owner.token }))).toEqual([]);
    expect(await json(await call("GET", "/api/analytics/copilot", { token: t.owner.token }))).toEqual({ total: 0, daily: [] });
    await env.DB.prepare("INSERT INTO usage_events (organization_id, type, project_id, detail, value, timestamp) VALUES (?, 'genai_op', ?, 'success', 2, ?), (?, 'genai_op', ?, 'error', 1, ?)")
      .bind(t.organization.id, t.project.id, Date.now(), t.organization.id, t.project.id, Date.now())
      .run();
    const copilot = await json(await call("GET", "/api/analytics/copilot", { token: t.owner.token }));
    expect(copilot).toEqual({ total: 3, daily: [{ day: new Date().toISOString().slice(0, 10), success: 2, error: 1 }] });
  });

  it("usage reports the plan's limits with -1 for unlimited", async () => {
    const body = await json(await call("GET", "/api/analytics/usage", { token: t.owner.token }));
    expect(body).toMatchObject({ plan_name: "Free", plan_tier: "free", events: { used: 120, limit: 500000 }, users: { used: 40, limit: 5000 }, segments: { limit: -1 }, ai_credits: { limit: 5 } });
    expect(body.model_runs.used).toBeGreaterThanOrEqual(2);
    expect(body.period_start).toMatch(/^\d{4}-\d{2}-01$/);
  });

  it("shows another tenant nothing of this one", async () => {
    expect(await json(await call("GET", "/api/analytics/overview", { token: other.owner.token }))).toMatchObject({ segment_count: 0, total_members: 0, events_30d: 0 });
    expect(await json(await call("GET", "/api/analytics/segments", { token: other.apiKey.key }))).toEqual([]);
    expect(await json(await call("GET", "/api/analytics/overlap", { token: other.owner.token }))).toEqual([]);
    await expectError(await call("GET", `/api/analytics/overview?project_id=${t.project.id}`, { token: other.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/analytics/overview?project_id=${t.project.id}`, { token: other.apiKey.key }), 403, "project_mismatch");
  });

  it("needs an active organization for a session, and a credential", async () => {
    const loner = await signUp();
    await expectError(await call("GET", "/api/analytics/overview", { token: loner.token }), 400, "validation_error");
    await expectError(await call("GET", "/api/analytics/overview"), 401, "unauthorized");
  });
});
