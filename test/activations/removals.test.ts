import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { subscriberHash } from "../../src/activations/channels/mailchimp";
import { isHoldout } from "../../src/activations/holdout";
import { deliverChunk } from "../../src/services/automation-runs";
import { call, json } from "../helpers";
import { waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, customerIds, interceptProvider, proActivationTenant } from "./helpers";

type Tenant = Awaited<ReturnType<typeof proActivationTenant>>;
const N = 40;
const SG_KEY = "SG.abcdefghijklmnop.qrstuvwxyz0123456789";
const SG_LIST = "6f1c4c5e-2a43-4f4b-9e42-2f1a0d1b3c4d";
const MC_KEY = "0123456789abcdef0123456789abcdef-us6";

let t: Tenant;
beforeAll(async () => {
  t = await proActivationTenant(N);
}, 60_000);
afterEach(() => vi.restoreAllMocks());


const email = (id: string) => `${id}@example.com`;
/** activationTenant gives every customer an email but each tenth (c0000, c0010, …). */
const hasEmail = (id: string) => Number(id.slice(1)) % 10 !== 0;

async function runAndWait(automationId: string) {
  const res = await call("POST", `/api/automations/${automationId}/run`, { token: t.owner.token });
  expect(res.status, await res.clone().text()).toBe(202);
  const accepted = await json(res);
  return { runId: accepted.run_id as string, job: await waitForJob(t.owner.token, accepted.job_id, 30_000) };
}

const latestRun = async (automationId: string) => (await json(await call("GET", `/api/automations/${automationId}/runs`, { token: t.owner.token }))).runs[0];
const preview = async (automationId: string) => json(await call("GET", `/api/automations/${automationId}/preview`, { token: t.owner.token }));
const setMembers = async (segmentId: string, ids: string[]) => {
  const res = await call("PATCH", `/api/engine/segments/${segmentId}`, { token: t.owner.token, body: { rules: [{ field: "customer_id", op: "in", values: ids }] } });
  expect(res.status).toBe(200);
};

/**
 * A segment of c0001…c0019 bound to the connector (manual trigger, 20% holdout), synced once; then
 * c0001…c0009 leave it. Returns the emails the list got and those that must now be removed.
 */
async function syncedThenShrunk(connectorBody: unknown, firstAnswer: () => Response) {
  const ids = customerIds(20).slice(1);
  const segment = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Leavers", rules: [{ field: "customer_id", op: "in", values: ids }] } }));
  const connector = await createConnector(t, connectorBody);
  const automation = await createAutomation(t, { name: "List sync", segment_id: segment.id, connector_id: connector.id, holdout_pct: 20, address: { email: "email" } });
  const treated: string[] = [];
  const control: string[] = [];
  // An earlier test may have deleted a customer: only those still there are members.
  const { results } = await env.DB.prepare("SELECT customer_id FROM customers WHERE project_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2))")
    .bind(t.project.id, JSON.stringify(ids))
    .all<{ customer_id: string }>();
  const existing = new Set(results.map((r) => r.customer_id));
  for (const id of ids.filter((id) => existing.has(id))) ((await isHoldout(automation.id, id, 20)) ? control : treated).push(id);
  interceptProvider(firstAnswer);
  expect((await runAndWait(automation.id)).job.status).toBe("completed");
  vi.restoreAllMocks();
  await setMembers(segment.id, ids.slice(9));
  const leavers = treated.filter((id) => ids.indexOf(id) < 9 && hasEmail(id));
  return { automation, segment, treated, control, leavers };
}

describe("removals to list channels", { timeout: 60_000 }, () => {
  it("sendgrid: looks up the leavers' contacts by email and removes them from the list, never the holdout; a redelivered chunk calls nothing", async () => {
    const { automation, control, leavers } = await syncedThenShrunk({ type: "sendgrid", name: "SG list", config: { apiKey: SG_KEY, listId: SG_LIST } }, () =>
      Response.json({ job_id: "a" }, { status: 202 }),
    );
    expect(leavers.length).toBeGreaterThan(1);
    // One leaver's customer row is gone too: it is removed by the address it was added with.
    const gone = leavers[0]!;
    await env.DB.prepare("DELETE FROM customers WHERE project_id = ? AND customer_id = ?").bind(t.project.id, gone).run();
    const before = await preview(automation.id);
    expect(before.to_remove).toMatchObject({ count: leavers.length, sent: true });
    expect(before.to_remove.sample.sort()).toEqual(leavers.slice(0, 10).sort());
    expect(before.to_add.count).toBe(0);

    // SendGrid does not know the second leaver (a per-email error in a 200): nothing to remove for it.
    const unknown = email(leavers[1]!);
    const sent = interceptProvider((request, body) => {
      if (request.url.endsWith("/v3/marketing/contacts/search/emails")) {
        const result = Object.fromEntries((JSON.parse(body).emails as string[]).map((e) => [e, e === unknown ? { error: "contact not found" } : { contact: { id: `id-${e}`, email: e, list_ids: [SG_LIST] } }]));
        return Response.json({ result });
      }
      return Response.json({ job_id: "b" }, { status: 202 });
    });
    const { runId, job } = await runAndWait(automation.id);
    expect(job.status).toBe("completed");
    expect(sent.map((s) => s.request.method)).toEqual(["POST", "DELETE"]);
    for (const { request } of sent) expect(request.headers.get("Authorization")).toBe(`Bearer ${SG_KEY}`);
    expect(JSON.parse(sent[0]!.body).emails.sort()).toEqual(leavers.map(email).sort());
    const url = new URL(sent[1]!.request.url);
    expect(`${url.origin}${url.pathname}`).toBe(`https://api.sendgrid.com/v3/marketing/lists/${SG_LIST}/contacts`);
    expect(url.searchParams.get("contact_ids")!.split(",").sort()).toEqual(
      leavers
        .map(email)
        .filter((e) => e !== unknown)
        .map((e) => `id-${e}`)
        .sort(),
    );
    expect(sent.some((s) => control.some((id) => s.body.includes(email(id)) || s.request.url.includes(email(id))))).toBe(false);
    expect(await latestRun(automation.id)).toMatchObject({ run_id: runId, status: "success", delivered: 0 });

    // The queue delivering the chunk again sends nothing; the list is now in sync.
    await deliverChunk(env, runId, 0);
    expect(sent.length).toBe(2);
    expect((await preview(automation.id)).to_remove.count).toBe(0);
  });

  it("sendgrid: a refused removal fails its chunk with the provider's message, stays to remove, and replay removes it", async () => {
    const { automation, leavers } = await syncedThenShrunk({ type: "sendgrid", name: "SG refused", config: { apiKey: SG_KEY, listId: SG_LIST } }, () =>
      Response.json({ job_id: "a" }, { status: 202 }),
    );
    const lookup = (body: string) => Response.json({ result: Object.fromEntries((JSON.parse(body).emails as string[]).map((e) => [e, { contact: { id: `id-${e}` } }])) });
    interceptProvider((request, body) =>
      request.method === "POST" ? lookup(body) : Response.json({ errors: [{ field: "id", message: "list not found" }] }, { status: 404 }),
    );
    const { runId, job } = await runAndWait(automation.id);
    expect(job).toMatchObject({ status: "failed", error_message: "404: list not found" });
    expect(await latestRun(automation.id)).toMatchObject({ status: "failed", error_message: "404: list not found" });
    // Still on the list as far as anyone knows: the next sync would remove them again.
    expect((await preview(automation.id)).to_remove.count).toBe(leavers.length);

    vi.restoreAllMocks();
    const replayed = interceptProvider((request, body) => (request.method === "POST" ? lookup(body) : Response.json({ job_id: "c" }, { status: 202 })));
    const replay = await json(await call("POST", `/api/automation-runs/${runId}/replay`, { token: t.owner.token }));
    expect((await waitForJob(t.owner.token, replay.job_id, 30_000)).status).toBe("completed");
    expect(replayed.map((s) => s.request.method)).toEqual(["POST", "DELETE"]);
    expect(new URL(replayed[1]!.request.url).searchParams.get("contact_ids")!.split(",").length).toBe(leavers.length);
    expect(await latestRun(automation.id)).toMatchObject({ status: "success", error_message: null });
    expect((await preview(automation.id)).to_remove.count).toBe(0);
  });

  it("sendgrid: a lookup that finds none of them (404) has nothing to remove; without a list nothing is sent at all", async () => {
    const withList = await syncedThenShrunk({ type: "sendgrid", name: "SG none", config: { apiKey: SG_KEY, listId: SG_LIST } }, () => Response.json({ job_id: "a" }, { status: 202 }));
    const sent = interceptProvider(() => Response.json({ errors: [{ message: "No contacts found" }] }, { status: 404 }));
    expect((await runAndWait(withList.automation.id)).job.status).toBe("completed");
    expect(sent.map((s) => s.request.url)).toEqual(["https://api.sendgrid.com/v3/marketing/contacts/search/emails"]);

    vi.restoreAllMocks();
    const noList = await syncedThenShrunk({ type: "sendgrid", name: "SG no list", config: { apiKey: SG_KEY } }, () => Response.json({ job_id: "a" }, { status: 202 }));
    expect((await preview(noList.automation.id)).to_remove).toMatchObject({ count: noList.leavers.length, sent: false });
    const none = interceptProvider(() => Response.json({}, { status: 500 }));
    expect((await runAndWait(noList.automation.id)).job.status).toBe("completed");
    expect(none).toEqual([]);
    expect((await preview(noList.automation.id)).to_remove.count).toBe(0);
  });

  it("mailchimp: archives each leaver by subscriber hash (a 404 is already off the list); a refusal fails the chunk and replay archives again", async () => {
    const { automation, control, leavers } = await syncedThenShrunk({ type: "mailchimp", name: "MC list", config: { apiKey: MC_KEY, listId: "a1b2c3d4e5" } }, () =>
      Response.json({ error_count: 0, errors: [] }),
    );
    expect((await preview(automation.id)).to_remove).toMatchObject({ count: leavers.length, sent: true });
    const hashes = new Map(await Promise.all(leavers.map(async (id) => [await subscriberHash(email(id)), id] as const)));
    const [alreadyGone, refused] = [...hashes.keys()];
    let refusedOnce = false;
    const sent = interceptProvider((request) => {
      const hash = request.url.split("/").at(-1)!;
      if (hash === alreadyGone) return Response.json({ title: "Resource Not Found", status: 404, detail: "The requested resource could not be found." }, { status: 404 });
      if (hash === refused && !refusedOnce) {
        refusedOnce = true;
        return Response.json({ title: "Invalid Resource", status: 400, detail: "This member cannot be archived." }, { status: 400 });
      }
      return new Response(null, { status: 204 });
    });
    const { runId, job } = await runAndWait(automation.id);
    expect(job).toMatchObject({ status: "failed", error_message: `400: ${email(hashes.get(refused!)!)}: Invalid Resource: This member cannot be archived.` });
    for (const { request } of sent) {
      expect(request.method).toBe("DELETE");
      expect(request.url).toMatch(/^https:\/\/us6\.api\.mailchimp\.com\/3\.0\/lists\/a1b2c3d4e5\/members\/[0-9a-f]{32}$/);
      expect(request.headers.get("Authorization")).toBe(`Basic ${btoa(`segmento:${MC_KEY}`)}`);
      expect(hashes.has(request.url.split("/").at(-1)!)).toBe(true);
    }
    const controlHashes = new Set(await Promise.all(control.map((id) => subscriberHash(email(id)))));
    expect(sent.some((s) => controlHashes.has(s.request.url.split("/").at(-1)!))).toBe(false);

    const first = sent.length;
    const replay = await json(await call("POST", `/api/automation-runs/${runId}/replay`, { token: t.owner.token }));
    expect((await waitForJob(t.owner.token, replay.job_id, 30_000)).status).toBe("completed");
    // The whole chunk is archived again (archiving twice is harmless), so every leaver was archived.
    expect(new Set(sent.slice(first).map((s) => s.request.url.split("/").at(-1)))).toEqual(new Set(hashes.keys()));
    expect(await latestRun(automation.id)).toMatchObject({ status: "success" });
    expect((await preview(automation.id)).to_remove.count).toBe(0);
  });

  it("mailchimp: the subscriber hash is the MD5 of the lower-cased email", async () => {
    expect(await subscriberHash("C0001@Example.com")).toBe("6d78ff6c70abc5d2dfc2d8b4c9c8ce14");
  });
});
