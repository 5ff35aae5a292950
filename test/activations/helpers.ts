import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { database } from "../../src/db/client";
import { automations } from "../../src/db/schema";
import { planRun, startRun } from "../../src/services/automation-runs";
import { expect, vi } from "vitest";
import { publicDnsAnswer } from "../fake-dns";
import { call, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

export const customerIds = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i).padStart(4, "0")}`);

/**
 * A tenant whose project has `n` customers (every tenth without an email, every fifth without a
 * phone) and a rule segment holding all of them.
 */
export async function activationTenant(n = 200) {
  const t = await tenant();
  const records = customerIds(n).map((id, i) => ({
    customer_id: id,
    order_date: "2025-01-01",
    amount: 10 + i,
    ...(i % 10 !== 0 && { email: `${id}@example.com` }),
    ...(i % 5 !== 0 && { phone: `+1555${String(i).padStart(7, "0")}` }),
  }));
  const accepted = await ingest(t.apiKey.key, t.project.id, records);
  expect((await waitForJob(t.apiKey.key, accepted.job_id)).status).toBe("completed");
  const segment = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "All", rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] } }));
  expect(segment.size).toBe(n);
  return { ...t, segmentId: segment.id as string };
}

/** activationTenant on the Pro plan, which has room for the many automations a test file creates. */
export async function proActivationTenant(n: number) {
  const t = await activationTenant(n);
  await env.DB.prepare("UPDATE organizations SET plan = 'pro' WHERE id = ?").bind(t.organization.id).run();
  return t;
}

export type SentRequest = { request: Request; body: string };

/** Intercepts the Worker's outbound requests (the providers); `answer` decides each reply, by request and call number. */
export function interceptProvider(answer: (request: Request, body: string, n: number) => Response | Promise<Response> = () => Response.json({})) {
  const sent: SentRequest[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    // Webhook hosts are resolved before delivery: answer those lookups with a public address.
    const dns = publicDnsAnswer(request);
    if (dns) return dns;
    const body = await request.clone().text();
    sent.push({ request, body });
    return answer(request, body, sent.length);
  });
  return sent;
}

export async function createConnector(t: { owner: { token: string }; project: { id: string } }, body: unknown) {
  const res = await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body });
  expect(res.status).toBe(201);
  return json(res);
}

export const webhookConnector = (url = "https://hooks.example.com/segmento") => ({ type: "custom_webhook", name: "Webhook", config: { url, signingSecret: "whsec_0123456789abcdef0123" } });
export const sendgridConnector = { type: "sendgrid", name: "SendGrid", config: { apiKey: "SG.abcdefghijklmnop.qrstuvwxyz0123456789" } };

export async function createAutomation(t: { owner: { token: string }; project: { id: string } }, body: Record<string, unknown>) {
  const res = await call("POST", `/api/projects/${t.project.id}/automations`, { token: t.owner.token, body });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

/**
 * A finished run written straight to D1 (as the activations queue would leave it), with one chunk
 * and the given members: for tests of what comes after a run (replay, outcomes).
 */
export async function insertFinishedRun(
  t: { project: { id: string }; organization: { id: string } },
  automationId: string,
  { status, finishedAt = Date.now(), chunkStatus, members = [] }: { status: "success" | "partial" | "failed"; finishedAt?: number; chunkStatus: "delivered" | "failed"; members?: Array<[string, string, number | null]> },
) {
  const runId = crypto.randomUUID();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO automation_runs (id, automation_id, project_id, organization_id, job_id, trigger, status, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, 'manual', ?, ?, ?, ?)",
    ).bind(runId, automationId, t.project.id, t.organization.id, crypto.randomUUID(), status, finishedAt, finishedAt, finishedAt),
    env.DB.prepare("INSERT INTO automation_chunks (run_id, chunk, status, member_count) VALUES (?, 0, ?, ?)").bind(runId, chunkStatus, Math.max(1, members.length)),
    env.DB.prepare("INSERT INTO automation_run_members (run_id, customer_id, grp, chunk) SELECT ?1, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?2)").bind(runId, JSON.stringify(members)),
  ]);
  return runId;
}

const noQueue = () => ({ ...env, ACTIVATIONS_QUEUE: { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue });

/** A run inserted as POST …/run would, without its queue message (so the test drives the consumer). */
export async function startRunDirect(automationId: string) {
  const db = database(env.DB);
  const automation = (await db.select().from(automations).where(eq(automations.id, automationId)).get())!;
  const { run, job } = await startRun(noQueue(), db, automation, "manual");
  return { run: run.id, job: job.id };
}

/** Plans a run without queueing its chunks. */
export async function planRunWithoutQueue(runId: string) {
  await planRun(noQueue(), runId);
}
