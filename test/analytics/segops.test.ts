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

  it("activations are empty until connectors exist; copilot counts its logged calls", async () => {
    expect(await json(await call("GET", "/api/analytics/activations", { token: t.owner.token }))).toEqual([]);
    expect(await json(await call("GET", "/api/analytics/copilot", { token: t.owner.token }))).toEqual({ total: 0, daily: [] });
    const logged = (status: string) =>
      env.DB.prepare("INSERT INTO copilot_calls (id, organization_id, project_id, status, engine, model, latency_ms, prompt, created_at) VALUES (?, ?, ?, ?, 'parser', 'segmento-grammar-v1', 1, 'p', ?)")
        .bind(crypto.randomUUID(), t.organization.id, t.project.id, status, Date.now());
    await env.DB.batch([logged("success"), logged("success"), logged("error")]);
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

describe("a rule segment's membership after a change of it", () => {
  it("is rewritten at once for overlap, sizes and the SQL API's fact_segment_membership: on create, rule edit and delete", async () => {
    const t = await tenant();
    const records = Array.from({ length: 120 }, (_, i) => ({ customer_id: `c${i % 40}`, order_date: `2025-0${1 + (i % 9)}-1${i % 10}`, amount: 10 + (i % 40) * 3, country: i % 2 ? "TR" : "DE" }));
    const ingested = await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, records)).job_id);
    await waitForJob(t.owner.token, ingested.result.model_run.job_id, 30_000);
    const members = async (segmentId: string) => {
      const res = await call("POST", "/api/analytics/query", { token: t.apiKey.key, body: { query: `SELECT COUNT(*) FROM fact_segment_membership WHERE segment_id = '${segmentId}'` } });
      expect(res.status).toBe(200);
      return Number((await json(res)).rows[0][0]);
    };
    /** The segment's overlaps with the clusters, which partition the customers, add up to its size. */
    const overlapTotal = async (segmentId: string) => {
      const pairs = await json(await call("GET", "/api/analytics/overlap", { token: t.apiKey.key }));
      return pairs.filter((p: any) => p.seg_a_id === segmentId || p.seg_b_id === segmentId).reduce((sum: number, p: any) => sum + p.overlap, 0);
    };

    // Every customer buys in TR and DE alike (odd and even rows): 40 members, then narrowed by spend.
    const created = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Turkey", rules: [{ field: "extra_features.country", op: "eq", value: "TR" }] } }));
    expect(created.size).toBeGreaterThan(0);
    expect(await overlapTotal(created.id)).toBe(created.size);
    expect(await members(created.id)).toBe(created.size);

    const patched = await json(
      await call("PATCH", `/api/engine/segments/${created.id}`, { token: t.owner.token, body: { rules: [{ field: "extra_features.country", op: "eq", value: "TR" }, { field: "rfm_monetary", op: "gte", value: 200 }] } }),
    );
    expect(patched.size).toBeGreaterThan(0);
    expect(patched.size).toBeLessThan(created.size);
    expect(await overlapTotal(created.id)).toBe(patched.size);
    expect(await members(created.id)).toBe(patched.size);
    const [trend] = (await json(await call("GET", "/api/analytics/segments", { token: t.apiKey.key }))).filter((s: any) => s.id === created.id);
    expect(trend.member_count).toBe(patched.size);

    expect((await call("DELETE", `/api/engine/segments/${created.id}`, { token: t.owner.token })).status).toBe(204);
    expect(await overlapTotal(created.id)).toBe(0);
    expect(await members(created.id)).toBe(0);
  });
});
