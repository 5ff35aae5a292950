import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/engine/random";
import { call, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, webhookConnector } from "../activations/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

/** Loyal big spenders, newcomers, lapsed one-timers and occasional buyers: several clusters. */
function mixedCustomers(customers: number) {
  const random = seededRandom(7);
  const end = Date.UTC(2025, 11, 31);
  const day = 86_400_000;
  const records: Array<Record<string, unknown>> = [];
  for (let c = 0; c < customers; c++) {
    const kind = c % 4;
    const orders = kind === 0 ? 8 + Math.floor(random() * 8) : kind === 3 ? 2 + Math.floor(random() * 3) : 1;
    const start = kind === 1 ? end - 30 * day : end - 700 * day;
    const span = kind === 2 ? 60 * day : end - start;
    for (let o = 0; o < orders; o++) {
      records.push({
        customer_id: `cust-${String(c).padStart(4, "0")}`,
        order_date: new Date(start + random() * span).toISOString().slice(0, 10),
        amount: Math.round((kind === 0 ? 80 + random() * 200 : 10 + random() * 40) * 100) / 100,
      });
    }
  }
  return records;
}

/** Ingests the records and waits for the model run the ingest queued. */
async function ingestAndModel(t: Tenant, records: Array<Record<string, unknown>>) {
  const accepted = await ingest(t.apiKey.key, t.project.id, records);
  const ingested = await waitForJob(t.apiKey.key, accepted.job_id);
  expect(ingested.status).toBe("completed");
  const run = await waitForJob(t.owner.token, ingested.result.model_run.job_id, 40_000);
  expect(run.status).toBe("completed");
  return accepted;
}

const get = async (t: Tenant, path: string) => call("GET", path, { token: t.owner.token });

describe("a model run that no longer finds a cluster", { timeout: 120_000 }, () => {
  it("pauses the automations on it (with a reason, freeing the quota) and marks the hybrid segments narrowing it", async () => {
    const t = await tenant(); // free plan: 2 active automations
    const first = await ingestAndModel(t, mixedCustomers(160));
    const clusters = (await json(await get(t, `/api/engine/projects/${t.project.id}/segments`))).segments.filter((s: any) => s.kind === "cluster");
    expect(clusters.length).toBeGreaterThanOrEqual(2);
    const [x, y] = clusters;
    const hybrids: any[] = [];
    for (const cluster of clusters) {
      const res = await call("POST", `/api/engine/projects/${t.project.id}/segments`, {
        token: t.owner.token,
        body: { name: `${cluster.name} buyers`, cluster_segment_id: cluster.id, rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] },
      });
      expect(res.status).toBe(201);
      hybrids.push(await json(res));
    }
    const hybridOfY = hybrids[1]!;
    expect(hybridOfY.cluster_segment_missing).toBe(false);
    const connector = await createConnector(t, webhookConnector());
    const base = { connector_id: connector.id, trigger: { type: "manual" }, address: {} };
    const onCluster = await createAutomation(t, { ...base, name: "On the cluster", segment_id: x.id });
    const onHybrid = await createAutomation(t, { ...base, name: "On the hybrid", segment_id: hybridOfY.id });
    expect([onCluster.status, onCluster.status_reason]).toEqual(["active", null]);
    // The plan's two automations are in use.
    await expectError(await call("POST", `/api/projects/${t.project.id}/automations`, { token: t.owner.token, body: { ...base, name: "Third", segment_id: x.id } }), 429, "quota_exceeded");

    // The same customers' history replaced by one customer's: the next run finds a single cluster.
    expect((await call("DELETE", `/api/engine/files/${first.file_id}`, { token: t.owner.token })).status).toBe(204);
    await ingestAndModel(t, [
      { customer_id: "solo", order_date: "2025-01-01", amount: 10 },
      { customer_id: "solo", order_date: "2025-02-01", amount: 20 },
    ]);
    const after = (await json(await get(t, `/api/engine/projects/${t.project.id}/segments`))).segments;
    const kept = new Set(after.filter((s: any) => s.kind === "cluster").map((s: any) => s.id));
    expect(kept.size).toBe(1);
    const xGone = !kept.has(x.id);
    const yGone = !kept.has(y.id);
    expect(xGone || yGone).toBe(true);

    // Hybrid segments say their cluster is gone instead of silently counting 0.
    for (const [i, cluster] of clusters.entries()) {
      const hybrid = await json(await get(t, `/api/engine/segments/${hybrids[i]!.id}`));
      expect(hybrid.cluster_segment_missing, cluster.name).toBe(!kept.has(cluster.id));
      if (!kept.has(cluster.id)) expect(hybrid.size).toBe(0);
    }

    for (const [automation, cluster, gone] of [
      [onCluster, x, xGone],
      [onHybrid, y, yGone],
    ] as const) {
      const now = await json(await get(t, `/api/automations/${automation.id}`));
      if (!gone) {
        expect([now.status, now.status_reason]).toEqual(["active", null]);
        continue;
      }
      expect(now.status).toBe("paused");
      expect(now.status_reason).toContain(`"${cluster.name}" (${cluster.id})`);
      // The preview says what happened instead of a 409.
      const preview = await get(t, `/api/automations/${automation.id}/preview`);
      expect(preview.status).toBe(200);
      if (automation === onCluster) expect(await json(preview)).toMatchObject({ segment_missing: true, status: "paused", status_reason: now.status_reason, member_count: 0 });
      else expect(await json(preview)).toMatchObject({ segment_missing: false, status: "paused", status_reason: now.status_reason, member_count: 0 });
      // It cannot be re-activated on a segment that is gone; pointed at another segment it can.
      if (automation === onCluster) {
        await expectError(await call("PATCH", `/api/automations/${automation.id}`, { token: t.owner.token, body: { status: "active" } }), 400, "validation_error");
      }
    }

    // Analytics show the pause and its reason, not an "active" automation on a segment named "".
    const activations = await json(await get(t, `/api/analytics/activations?project_id=${t.project.id}`));
    const rows = activations.automations ?? activations;
    const row = rows.find((a: any) => a.id === (xGone ? onCluster.id : onHybrid.id));
    expect(row).toMatchObject({ status: "paused", status_reason: expect.stringContaining("no longer finds") });
    if (xGone) expect(rows.find((a: any) => a.id === onCluster.id).segment_name).toBeNull();

    // A paused automation no longer holds a place in the plan's quota.
    const third = await call("POST", `/api/projects/${t.project.id}/automations`, { token: t.owner.token, body: { ...base, name: "Third", segment_id: [...kept][0] } });
    expect(third.status).toBe(201);

    // Pointed at an existing segment, the paused automation can be activated again, and the reason goes.
    const paused = xGone ? onCluster : onHybrid;
    await call("DELETE", `/api/automations/${(await json(third)).id}`, { token: t.owner.token });
    const repointed = await call("PATCH", `/api/automations/${paused.id}`, { token: t.owner.token, body: { segment_id: [...kept][0], status: "active" } });
    expect(repointed.status).toBe(200);
    expect(await json(repointed)).toMatchObject({ status: "active", status_reason: null });
  });
});
