import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isHoldout } from "../../src/activations/holdout";
import { deliverChunk } from "../../src/services/automation-runs";
import { call, expectError, json } from "../helpers";
import { waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, customerIds, planRunWithoutQueue, proActivationTenant, startRunDirect } from "./helpers";

type Tenant = Awaited<ReturnType<typeof proActivationTenant>>;
const N = 40;
const SID = `AC${"0a".repeat(16)}`;

let t: Tenant;
beforeAll(async () => {
  t = await proActivationTenant(N);
}, 60_000);
afterEach(() => vi.restoreAllMocks());

/** activationTenant gives every customer a phone but each fifth (c0000, c0005, …). */
const phoneOf = (id: string) => {
  const i = Number(id.slice(1));
  return i % 5 === 0 ? null : `+1555${String(i).padStart(7, "0")}`;
};

/** What the provider received: one entry per request it got, whatever the Worker then saw. */
function smsProvider(recipientOf: (body: string) => string, answer: (n: number) => Response | "lose the answer") {
  const received: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    received.push(recipientOf(await request.clone().text()));
    const reply = answer(received.length);
    // The provider took the message, but the connection dropped before its answer arrived.
    if (reply === "lose the answer") throw new TypeError("Network connection lost.");
    return reply;
  });
  return received;
}
const twilioTo = (body: string) => new URLSearchParams(body).get("To")!;
const messagebirdTo = (body: string) => JSON.parse(body).recipients[0] as string;

const latestRun = async (automationId: string) => (await json(await call("GET", `/api/automations/${automationId}/runs`, { token: t.owner.token }))).runs[0];
const counts = (values: string[]) => values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());

describe("per-member channels send each member at most once", { timeout: 60_000 }, () => {
  it("twilio: a message whose answer was lost is not sent again; the member is reported as delivery unknown and never resent", async () => {
    const connector = await createConnector(t, { type: "twilio", name: "Twilio", config: { accountSid: SID, authToken: "0123456789abcdef0123456789abcdef", fromNumber: "+15005550006" } });
    const automation = await createAutomation(t, { name: "SMS", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 20, address: { phone: "phone" }, message: { body: "Hi {{customer_id}}" } });
    const phones: string[] = [];
    for (const id of customerIds(N)) if (!(await isHoldout(automation.id, id, 20)) && phoneOf(id)) phones.push(phoneOf(id)!);
    const received = smsProvider(twilioTo, (n) => (n === 3 ? "lose the answer" : Response.json({ sid: "SM" }, { status: 201 })));

    const res = await call("POST", `/api/automations/${automation.id}/run`, { token: t.owner.token });
    const accepted = await json(res);
    expect((await waitForJob(t.owner.token, accepted.job_id, 30_000)).status).toBe("completed");
    const lost = received[2]!;
    expect([...counts(received).values()].every((n) => n === 1)).toBe(true);
    expect(new Set(received)).toEqual(new Set(phones));
    const message = "delivery unknown for 1 member: the provider was called but the outcome was not recorded (no answer, or delivery stopped mid-way); they are not sent again";
    expect(await latestRun(automation.id)).toMatchObject({ status: "partial", delivered: phones.length - 1, delivery_unknown: 1, error_message: message });
    const row = (await json(await call("GET", `/api/analytics/activations?project_id=${t.project.id}`, { token: t.owner.token }))).find((a: { id: string }) => a.id === automation.id);
    expect(row.sync_logs[0]).toMatchObject({ status: "partial", user_count: phones.length - 1, error_message: message });

    // Nothing failed, so there is nothing to replay; and the next run does not send to the unknown member either.
    await expectError(await call("POST", `/api/automation-runs/${accepted.run_id}/replay`, { token: t.owner.token }), 409, "conflict");
    const preview = await json(await call("GET", `/api/automations/${automation.id}/preview`, { token: t.owner.token }));
    expect(preview).toMatchObject({ to_add: { count: 0 }, in_sync: { count: phones.length } });
    const second = await json(await call("POST", `/api/automations/${automation.id}/run`, { token: t.owner.token }));
    expect((await waitForJob(t.owner.token, second.job_id, 30_000)).status).toBe("completed");
    expect(received.filter((p) => p === lost).length).toBe(1);
    expect(received.length).toBe(phones.length);
  });

  it("messagebird: a chunk redelivered while its first consumer hangs after the provider took a message resumes after that member, which is reported, never resent", async () => {
    const connector = await createConnector(t, { type: "messagebird", name: "MB", config: { apiKey: "live_abcdefghijklmnopqrstuvwx", originator: "Segmento" } });
    const automation = await createAutomation(t, { name: "SMS 2", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 0, address: { phone: "phone" }, message: { body: "Hi" } });
    const { run, job } = await startRunDirect(automation.id);
    await planRunWithoutQueue(run);
    const chunkOf = async (chunk: number) =>
      (await env.DB.prepare("SELECT customer_id FROM automation_run_members WHERE run_id = ? AND chunk = ? ORDER BY customer_id").bind(run, chunk).all<{ customer_id: string }>()).results.map(
        (r) => r.customer_id,
      );
    const [first, second] = [await chunkOf(0), await chunkOf(1)];
    expect(first.length).toBe(25);

    // The first consumer: the provider takes its third message, and the answer never comes back (the
    // Worker is gone, as far as the run can tell).
    let release!: () => void;
    const hung = new Promise<Response>((resolve) => (release = () => resolve(Response.json({ id: "late" }, { status: 201 }))));
    const received: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      received.push(messagebirdTo(await new Request(input as RequestInfo, init).text()));
      return received.length === 3 ? hung : Response.json({ id: "x" }, { status: 201 });
    });
    const dead = deliverChunk(env, run, 0);
    await vi.waitFor(() => expect(received.length).toBe(3));
    // Its lease runs out, and the queue redelivers chunk 0's message to another consumer; then chunk 1's.
    await env.DB.prepare("UPDATE automation_chunks SET claimed_at = ? WHERE run_id = ? AND chunk = 0").bind(Date.now() - 120_000, run).run();
    const batch = createMessageBatch("segmento-activations", [{ id: "m0", timestamp: new Date(), attempts: 2, body: { kind: "activation_chunk", runId: run, chunk: 0 } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m0"]);
    await deliverChunk(env, run, 1);
    expect(await latestRun(automation.id)).toMatchObject({ run_id: run, status: "partial", delivered: first.length - 1 + second.length, delivery_unknown: 1 });
    // The first consumer wakes up: it finds everything after its member taken, and sends nothing more.
    release();
    await dead;
    // Delivered again, neither chunk sends anything.
    await deliverChunk(env, run, 0);
    await deliverChunk(env, run, 1);

    expect(received.sort()).toEqual([...first, ...second].map((id) => phoneOf(id)!).sort());
    expect(await latestRun(automation.id)).toMatchObject({ status: "partial", delivery_unknown: 1 });
    expect((await json(await call("GET", `/api/engine/jobs/${job}/status`, { token: t.owner.token }))).status).toBe("completed");
  });

  it("amazon_ses: a member refused with a 4xx was certainly not sent: it goes back and a replay sends it; a 500 is unknown and is not retried", async () => {
    const connector = await createConnector(t, {
      type: "amazon_ses",
      name: "SES",
      config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", fromEmail: "news@example.com" },
    });
    const automation = await createAutomation(t, {
      name: "Mail",
      segment_id: t.segmentId,
      connector_id: connector.id,
      holdout_pct: 0,
      address: { email: "email" },
      message: { subject: "Hi", body: "Hello {{customer_id}}" },
    });
    const recipient = (body: string) => JSON.parse(body).Destination.ToAddresses[0] as string;
    // Request 2 answers 500 (the provider may have sent it), request 4 a final 400 (it did not).
    const received = smsProvider(recipient, (n) =>
      n === 2 ? Response.json({ message: "Internal failure" }, { status: 500 }) : n === 4 ? Response.json({ message: "Illegal address" }, { status: 400, headers: { "x-amzn-ErrorType": "BadRequestException" } }) : Response.json({ MessageId: "x" }),
    );
    const res = await json(await call("POST", `/api/automations/${automation.id}/run`, { token: t.owner.token }));
    await waitForJob(t.owner.token, res.job_id, 30_000);
    const [unknown, refused] = [received[1]!, received[3]!];
    expect(await latestRun(automation.id)).toMatchObject({ status: "partial", delivery_unknown: 1, error_message: expect.stringMatching(/^400: BadRequestException: Illegal address; delivery unknown for 1 member/) });

    const replay = await json(await call("POST", `/api/automation-runs/${res.run_id}/replay`, { token: t.owner.token }));
    await waitForJob(t.owner.token, replay.job_id, 30_000);
    expect(received.filter((r) => r === refused).length).toBe(2);
    expect(received.filter((r) => r === unknown).length).toBe(1);
    const everyone = customerIds(N).filter((id) => Number(id.slice(1)) % 10 !== 0).length;
    expect(new Set(received).size).toBe(everyone);
    expect(received.length).toBe(everyone + 1);
    expect(await latestRun(automation.id)).toMatchObject({ status: "partial", delivered: everyone - 1, delivery_unknown: 1 });
  });
});
