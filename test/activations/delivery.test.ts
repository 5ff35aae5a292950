import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyWebhookSignature } from "../../src/activations/webhook-signature";
import { isHoldout } from "../../src/activations/holdout";
import { deliverChunk, planRun, resumeStalledRuns } from "../../src/services/automation-runs";
import { call, expectError, json } from "../helpers";
import { publicDnsAnswer } from "../fake-dns";
import { ingest, waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, customerIds, planRunWithoutQueue, proActivationTenant, startRunDirect, webhookConnector } from "./helpers";

type Tenant = Awaited<ReturnType<typeof proActivationTenant>>;
const SECRET = "whsec_0123456789abcdef0123";
const N = 1200;

let t: Tenant;
beforeAll(async () => {
  t = await proActivationTenant(N);
}, 90_000);
afterEach(() => vi.restoreAllMocks());

type Delivery = { request: Request; body: any; raw: string };

/** Intercepts the Worker's outbound requests; `answer` decides each reply (by call number). */
function receiver(answer: (n: number, body: any) => Response = () => new Response("ok")) {
  const deliveries: Delivery[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const dns = publicDnsAnswer(request);
    if (dns) return dns;
    const raw = await request.clone().text();
    const body = JSON.parse(raw);
    deliveries.push({ request, body, raw });
    return answer(deliveries.length, body);
  });
  return deliveries;
}

async function runAndWait(automationId: string) {
  const res = await call("POST", `/api/automations/${automationId}/run`, { token: t.owner.token });
  expect(res.status, await res.clone().text()).toBe(202);
  const accepted = await json(res);
  const job = await waitForJob(t.owner.token, accepted.job_id, 60_000);
  return { ...accepted, job };
}

const treatedOf = async (automationId: string, pct: number) => {
  const treated: string[] = [];
  for (const id of customerIds(N)) if (!(await isHoldout(automationId, id, pct))) treated.push(id);
  return treated;
};

describe("automation runs", { timeout: 60_000 }, () => {
  it("delivers every treated member exactly once in signed chunks, none of the holdout, and logs the sync", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Sync", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 10 });
    const deliveries = receiver();
    const { job, run_id } = await runAndWait(automation.id);
    expect(job.status).toBe("completed");

    const treated = await treatedOf(automation.id, 10);
    const sent = deliveries.flatMap((d) => d.body.added.map((m: { customer_id: string }) => m.customer_id));
    expect(sent.sort()).toEqual(treated.sort());
    expect(new Set(sent).size).toBe(sent.length);
    expect(deliveries.length).toBe(Math.ceil(treated.length / 500));
    for (const d of deliveries) {
      expect(d.request.url).toBe("https://hooks.example.com/segmento");
      expect(await verifyWebhookSignature(SECRET, d.request.headers, d.raw)).toBe(true);
      expect(d.request.headers.get("Idempotency-Key")).toBe(`${run_id}:${d.body.chunk}`);
      expect(d.body).toMatchObject({ type: "segment.sync", automation_id: automation.id, run_id, segment: { id: t.segmentId, name: "All" }, removed: [] });
    }
    const member = deliveries[0]!.body.added.find((m: { customer_id: string }) => m.customer_id === "c0001");
    if (member) expect(member).toMatchObject({ customer_id: "c0001", fields: { extra_features: { email: "c0001@example.com" } } });

    const runs = await json(await call("GET", `/api/automations/${automation.id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ run_id, status: "success", member_count: N, treated: treated.length, control: N - treated.length, delivered: treated.length, error_message: null });
    const activations = await json(await call("GET", `/api/analytics/activations?project_id=${t.project.id}`, { token: t.owner.token }));
    const row = activations.find((a: { id: string }) => a.id === automation.id);
    expect(row).toMatchObject({ segment_id: t.segmentId, segment_name: "All", connector_type: "custom_webhook", status: "active", member_count: N, success_rate: 100, last_error: "" });
    expect(row.sync_logs).toEqual([{ status: "success", user_count: treated.length, error_message: "", synced_at: runs.runs[0].finished_at }]);
    expect(row.last_synced_at).toBe(runs.runs[0].finished_at);

    // Redelivered messages send nothing again.
    await planRun(env, run_id);
    for (let chunk = 0; chunk < deliveries.length; chunk++) await deliverChunk(env, run_id, chunk);
    expect(deliveries.length).toBe(Math.ceil(treated.length / 500));

    // The next run has nothing to add: everyone is in sync.
    const preview = await json(await call("GET", `/api/automations/${automation.id}/preview`, { token: t.owner.token }));
    expect(preview).toMatchObject({ to_add: { count: 0 }, in_sync: { count: treated.length }, holdout: { count: N - treated.length }, to_remove: { count: 0 } });
    const second = await runAndWait(automation.id);
    expect(second.job.status).toBe("completed");
    expect(deliveries.length).toBe(Math.ceil(treated.length / 500));
  }, 120_000);

  it("retries 5xx and 429 (honouring Retry-After) in place, then fails a refused chunk; replay sends only that chunk", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Flaky", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 0 });
    const timings: number[] = [];
    let chunk0Attempts = 0;
    const deliveries = receiver((_n, body) => {
      timings.push(Date.now());
      if (body.chunk === 0 && ++chunk0Attempts <= 2) return new Response("busy", { status: chunk0Attempts === 1 ? 503 : 429, headers: chunk0Attempts === 2 ? { "Retry-After": "1" } : {} });
      if (body.chunk === 1) return new Response("payload refused", { status: 400 });
      return new Response("ok");
    });
    const { job, run_id } = await runAndWait(automation.id);
    expect(job.status).toBe("completed");
    const chunk0 = deliveries.filter((d) => d.body.chunk === 0);
    expect(chunk0.length).toBe(3);
    const secondTry = deliveries.indexOf(chunk0[1]!);
    const thirdTry = deliveries.indexOf(chunk0[2]!);
    expect(timings[thirdTry]! - timings[secondTry]!).toBeGreaterThanOrEqual(950);
    expect(deliveries.filter((d) => d.body.chunk === 1).length).toBe(1);

    let runs = await json(await call("GET", `/api/automations/${automation.id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ run_id, status: "partial", delivered: N - 500, error_message: "400: payload refused" });
    let row = (await json(await call("GET", `/api/analytics/activations?project_id=${t.project.id}`, { token: t.owner.token }))).find((a: { id: string }) => a.id === automation.id);
    expect(row).toMatchObject({ success_rate: 0, last_error: "400: payload refused", sync_logs: [{ status: "partial", user_count: N - 500, error_message: "400: payload refused" }] });

    vi.restoreAllMocks();
    const replayed = receiver();
    const replay = await call("POST", `/api/automation-runs/${run_id}/replay`, { token: t.owner.token });
    expect(replay.status).toBe(202);
    const accepted = await json(replay);
    expect(accepted).toMatchObject({ run_id, chunks: 1 });
    expect((await waitForJob(t.owner.token, accepted.job_id, 30_000)).status).toBe("completed");
    expect(replayed.map((d) => d.body.chunk)).toEqual([1]);
    expect(replayed[0]!.request.headers.get("Idempotency-Key")).toBe(`${run_id}:1`);
    runs = await json(await call("GET", `/api/automations/${automation.id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ run_id, status: "success", delivered: N, error_message: null });
    row = (await json(await call("GET", `/api/analytics/activations?project_id=${t.project.id}`, { token: t.owner.token }))).find((a: { id: string }) => a.id === automation.id);
    expect(row).toMatchObject({ success_rate: 100, sync_logs: [{ status: "success", user_count: N }] });
    await expectError(await call("POST", `/api/automation-runs/${run_id}/replay`, { token: t.owner.token }), 409, "conflict");
  }, 120_000);

  it("hands a chunk that keeps failing back to the queue with its Retry-After, and the dead-letter queue ends the run failed", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Down", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 50 });
    receiver(() => new Response("slow down", { status: 429, headers: { "Retry-After": "30" } }));
    const { run, job } = await startRunDirect(automation.id);
    await planRunWithoutQueue(run);
    const batch = createMessageBatch("segmento-activations", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { kind: "activation_chunk", runId: run, chunk: 0 } }]);
    const retry = vi.spyOn(batch.messages[0]!, "retry");
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m1"]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 30 });
    expect(await env.DB.prepare("SELECT status, last_error FROM automation_chunks WHERE run_id = ? AND chunk = 0").bind(run).first()).toEqual({ status: "pending", last_error: "429: slow down" });

    const dead = createMessageBatch("segmento-activations-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 1, body: { kind: "activation_chunk", runId: run, chunk: 0 } },
      { id: "d2", timestamp: new Date(), attempts: 1, body: { kind: "activation_chunk", runId: run, chunk: 1 } },
    ]);
    const dctx = createExecutionContext();
    await worker.queue(dead, env, dctx);
    expect((await getQueueResult(dead, dctx)).explicitAcks.sort()).toEqual(["d1", "d2"]);
    const status = await json(await call("GET", `/api/engine/jobs/${job}/status`, { token: t.owner.token }));
    expect(status.status).toBe("failed");
    expect(status.error_message).toMatch(/^gave up after \d+ attempts: /);
    const runs = await json(await call("GET", `/api/automations/${automation.id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ run_id: run, status: "failed", delivered: 0 });
  }, 60_000);

  it("ends a run failed when its segment has gone (a cluster a model run no longer finds)", async () => {
    const connector = await createConnector(t, webhookConnector());
    const segment = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Soon gone", rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] } }));
    const automation = await createAutomation(t, { name: "Orphan", segment_id: segment.id, connector_id: connector.id });
    await env.DB.prepare("DELETE FROM segments WHERE id = ?").bind(segment.id).run();
    const deliveries = receiver();
    const { job } = await runAndWait(automation.id);
    expect(job).toMatchObject({ status: "failed", error_message: "the automation's segment no longer exists" });
    expect(deliveries).toEqual([]);
  });

  it("queues a stalled run's pending chunks again (lost messages), and it completes", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Stalled", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 0 });
    const { run, job } = await startRunDirect(automation.id);
    await planRunWithoutQueue(run);
    const deliveries = receiver();
    // Nothing happens to a run whose messages are lost…
    expect(await resumeStalledRuns(env)).toBe(0);
    // …until it has been quiet for ten minutes.
    expect(await resumeStalledRuns(env, Date.now() + 11 * 60_000)).toBe(1);
    expect((await waitForJob(t.owner.token, job, 30_000)).status).toBe("completed");
    expect(deliveries.flatMap((d) => d.body.added).length).toBe(N);
  });

  it("refuses a second run while one is going, and runs of a paused automation", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Once", segment_id: t.segmentId, connector_id: connector.id });
    await startRunDirect(automation.id);
    await expectError(await call("POST", `/api/automations/${automation.id}/run`, { token: t.owner.token }), 409, "conflict");
    await expectError(await call("DELETE", `/api/automations/${automation.id}`, { token: t.owner.token }), 409, "conflict");
    const paused = await createAutomation(t, { name: "Paused", segment_id: t.segmentId, connector_id: connector.id, status: "paused" });
    await expectError(await call("POST", `/api/automations/${paused.id}/run`, { token: t.owner.token }), 409, "conflict");
  });
});

describe("triggers", () => {
  const runsOf = async (automationId: string) => (await json(await call("GET", `/api/automations/${automationId}/runs`, { token: t.owner.token }))).runs as Array<Record<string, any>>;

  it("schedule: runs when the cron matches the minute, once per minute", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "Weekly", segment_id: t.segmentId, connector_id: connector.id, trigger: { type: "schedule", cron: "5 9 * * 1" } });
    receiver();
    const fire = async (iso: string) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: new Date(iso).getTime(), cron: "* * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await fire("2026-11-30T09:04:00Z");
    expect(await runsOf(automation.id)).toEqual([]);
    await fire("2026-11-30T09:05:00Z");
    const [run] = await runsOf(automation.id);
    expect(run).toMatchObject({ trigger: "schedule" });
    expect((await waitForJob(t.owner.token, run!.job_id, 30_000)).status).toBe("completed");
    await fire("2026-11-30T09:05:30Z");
    expect((await runsOf(automation.id)).length).toBe(1);
  }, 60_000);

  it("segment_change: a model run that changes the segment sends the new members only", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "On change", segment_id: t.segmentId, connector_id: connector.id, trigger: { type: "segment_change" }, holdout_pct: 0 });
    const deliveries = receiver();
    await runAndWait(automation.id);
    expect(deliveries.flatMap((d) => d.body.added).length).toBe(N);
    const accepted = await ingest(t.apiKey.key, t.project.id, [
      { customer_id: "new-1", order_date: "2025-02-01", amount: 5 },
      { customer_id: "new-2", order_date: "2025-02-01", amount: 7 },
    ]);
    await waitForJob(t.apiKey.key, accepted.job_id);
    await vi.waitFor(
      async () => {
        const runs = await runsOf(automation.id);
        expect(runs[0]).toMatchObject({ trigger: "segment_change", status: "success" });
      },
      { timeout: 60_000, interval: 250 },
    );
    const latest = deliveries.slice(-1)[0]!;
    expect(latest.body.added.map((m: { customer_id: string }) => m.customer_id).sort()).toEqual(["new-1", "new-2"]);
  }, 120_000);

  it("segment_change: new rules on the segment send the members they add and the ones they remove", async () => {
    const [a, b, c] = customerIds(3);
    const segment = await json(
      await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Few", rules: [{ field: "customer_id", op: "in", values: [a, b] }] } }),
    );
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "On edit", segment_id: segment.id, connector_id: connector.id, trigger: { type: "segment_change" }, holdout_pct: 0 });
    const deliveries = receiver();
    await runAndWait(automation.id);
    expect(deliveries.flatMap((d) => d.body.added.map((m: { customer_id: string }) => m.customer_id)).sort()).toEqual([a, b]);
    const before = deliveries.length;
    const edited = await call("PATCH", `/api/engine/segments/${segment.id}`, { token: t.owner.token, body: { rules: [{ field: "customer_id", op: "in", values: [b, c] }] } });
    expect(edited.status).toBe(200);
    await vi.waitFor(
      async () => {
        const runs = await runsOf(automation.id);
        expect(runs[0]).toMatchObject({ trigger: "segment_change", status: "success" });
      },
      { timeout: 60_000, interval: 250 },
    );
    const sync = deliveries.slice(before);
    expect(sync.flatMap((d) => d.body.added.map((m: { customer_id: string }) => m.customer_id))).toEqual([c]);
    expect(sync.flatMap((d) => d.body.removed)).toEqual([a]);
  }, 120_000);
});
