import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/engine/random";
import { MIN_UPLIFT_GROUP, refitClosedWindows, refreshUplift, upliftSummary } from "../../src/services/uplift";
import { call, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, insertFinishedRun, webhookConnector } from "./helpers";

describe("uplift from automation outcomes", { timeout: 120_000 }, () => {
  it("recovers a known treatment effect once the outcome window has closed", async () => {
    const t = await tenant();
    const n = 800;
    const ids = Array.from({ length: n }, (_, i) => `u${String(i).padStart(4, "0")}`);
    const rng = seededRandom(42);
    // Before the campaign: one to three purchases in January 2025.
    const history = ids.flatMap((id, i) => Array.from({ length: 1 + (i % 3) }, (_, k) => ({ customer_id: id, order_date: `2025-01-${String(2 + k * 7).padStart(2, "0")}`, amount: 20 + (i % 50) })));
    for (let i = 0; i < history.length; i += 10_000) expect((await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, history.slice(i, i + 10_000))).job_id)).status).toBe("completed");
    const segment = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "All", rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] } }));
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Campaign", segment_id: segment.id, connector_id: connector.id, holdout_pct: 50, outcome_window_days: 30 });

    // A run on 1 February 2025: even customers treated (delivered), odd ones held out.
    await insertFinishedRun(t, automation.id, {
      status: "success",
      finishedAt: Date.parse("2025-02-01T00:00:00Z"),
      chunkStatus: "delivered",
      members: ids.map((id, i) => (i % 2 === 0 ? [id, "treated", 0] : [id, "control", null])),
    });
    // Outcomes: treated buy within the window with probability 0.55, control 0.20 (true effect 0.35).
    const outcomes = ids.filter((_, i) => rng() < (i % 2 === 0 ? 0.55 : 0.2)).map((id) => ({ customer_id: id, order_date: "2025-02-10", amount: 30 }));
    expect((await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, outcomes)).job_id)).status).toBe("completed");

    // The window (30 days from 1 February) has not closed on 15 February: nothing yet.
    expect(await refreshUplift(env.DB, t.project.id, Date.parse("2025-02-15T00:00:00Z"))).toEqual({ scored: 0, treated: 0, control: 0 });

    const after = Date.parse("2025-03-15T00:00:00Z");
    const summary = await upliftSummary(env.DB, t.project.id, after);
    expect(summary).toMatchObject({ treated: n / 2, control: n / 2, min_group: MIN_UPLIFT_GROUP });
    expect(summary.observed_lift!).toBeGreaterThan(0.27);
    expect(summary.observed_lift!).toBeLessThan(0.43);
    expect(await refreshUplift(env.DB, t.project.id, after)).toEqual({ scored: n, treated: n / 2, control: n / 2 });
    const { results } = await env.DB.prepare("SELECT uplift_score FROM customers WHERE project_id = ?").bind(t.project.id).all<{ uplift_score: number | null }>();
    const scores = results.map((r) => r.uplift_score!);
    expect(scores.every((s) => typeof s === "number" && s > -1 && s < 1)).toBe(true);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(mean).toBeGreaterThan(0.25);
    expect(mean).toBeLessThan(0.45);

    const overview = await json(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: t.owner.token }));
    expect(overview.uplift).toMatchObject({ treated: n / 2, control: n / 2, observed_lift: summary.observed_lift });
    const customer = (await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?limit=1`, { token: t.owner.token }))).customers[0];
    expect(typeof customer.uplift_score).toBe("number");
  });

  it("refits once a day where a window closed in the last two days", async () => {
    const t = await tenant();
    const connector = await createConnector(t, webhookConnector());
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    await waitForJob(t.apiKey.key, accepted.job_id);
    const segment = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "All", rules: [] } }));
    const automation = await createAutomation(t, { name: "x", segment_id: segment.id, connector_id: connector.id, outcome_window_days: 7 });
    await insertFinishedRun(t, automation.id, { status: "success", finishedAt: Date.parse("2026-03-01T00:00:00Z"), chunkStatus: "delivered", members: [["a", "treated", 0]] });
    // The window closes on 8 March at midnight: the refit at 03:00 that day takes the project.
    expect(await refitClosedWindows(env.DB, new Date("2026-03-08T03:00:00Z"))).toContain(t.project.id);
    expect(await refitClosedWindows(env.DB, new Date("2026-03-08T03:01:00Z"))).toEqual([]);
    expect(await refitClosedWindows(env.DB, new Date("2026-03-11T03:00:00Z"))).not.toContain(t.project.id);
  });

  it("scores nobody while a group is below the minimum", async () => {
    const t = await tenant();
    expect(await refreshUplift(env.DB, t.project.id)).toEqual({ scored: 0, treated: 0, control: 0 });
    expect(await upliftSummary(env.DB, t.project.id)).toMatchObject({ treated: 0, control: 0, observed_lift: null });
  });
});
