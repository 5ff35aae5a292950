import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isHoldout } from "../../src/activations/holdout";
import { call, json } from "../helpers";
import { waitForJob } from "../ingest/helpers";
import { createAutomation, createConnector, customerIds, interceptProvider, proActivationTenant } from "./helpers";

type Tenant = Awaited<ReturnType<typeof proActivationTenant>>;
const N = 40;

let t: Tenant;
beforeAll(async () => {
  t = await proActivationTenant(N);
}, 60_000);
afterEach(() => vi.restoreAllMocks());


async function run(connectorBody: unknown, automation: Record<string, unknown>, beforeRun?: (treated: number[]) => void) {
  const connector = await createConnector(t, connectorBody);
  const created = await createAutomation(t, { name: "x", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 20, ...automation });
  const treated: number[] = [];
  for (const [i, id] of customerIds(N).entries()) if (!(await isHoldout(created.id, id, 20))) treated.push(i);
  beforeRun?.(treated);
  const res = await call("POST", `/api/automations/${created.id}/run`, { token: t.owner.token });
  expect(res.status).toBe(202);
  const accepted = await json(res);
  const job = await waitForJob(t.owner.token, accepted.job_id, 30_000);
  return { automation: created, job, runId: accepted.run_id as string, treated };
}

const withEmail = (indexes: number[]) => indexes.filter((i) => i % 10 !== 0).map((i) => `c${String(i).padStart(4, "0")}@example.com`);
const withPhone = (indexes: number[]) => indexes.filter((i) => i % 5 !== 0).map((i) => `+1555${String(i).padStart(7, "0")}`);

describe("delivery per channel", { timeout: 60_000 }, () => {
  it("sendgrid: upserts the treated members with an email as marketing contacts on the list", async () => {
    const sent = interceptProvider(() => Response.json({ job_id: "x" }, { status: 202 }));
    const listId = "6f1c4c5e-2a43-4f4b-9e42-2f1a0d1b3c4d";
    const { job, treated } = await run({ type: "sendgrid", name: "SG", config: { apiKey: "SG.abcdefghijklmnop.qrstuvwxyz0123456789", listId } }, { address: { email: "email" } });
    expect(job.status).toBe("completed");
    expect(sent.length).toBe(1);
    expect(sent[0]!.request.method).toBe("PUT");
    expect(sent[0]!.request.url).toBe("https://api.sendgrid.com/v3/marketing/contacts");
    expect(sent[0]!.request.headers.get("Authorization")).toBe("Bearer SG.abcdefghijklmnop.qrstuvwxyz0123456789");
    const body = JSON.parse(sent[0]!.body);
    expect(body.list_ids).toEqual([listId]);
    expect(body.contacts.map((c: { email: string }) => c.email).sort()).toEqual(withEmail(treated).sort());
  });

  it("mailchimp: batch-subscribes the members to the audience", async () => {
    const sent = interceptProvider(() => Response.json({ new_members: [], updated_members: [], errors: [], error_count: 0 }));
    const { job, treated } = await run({ type: "mailchimp", name: "MC", config: { apiKey: "0123456789abcdef0123456789abcdef-us6", listId: "a1b2c3d4e5" } }, { address: { email: "email" } });
    expect(job.status).toBe("completed");
    expect(sent[0]!.request.url).toBe("https://us6.api.mailchimp.com/3.0/lists/a1b2c3d4e5?fields=error_count,errors.email_address,errors.error");
    expect(sent[0]!.request.method).toBe("POST");
    const body = JSON.parse(sent[0]!.body);
    expect(body.update_existing).toBe(true);
    expect(body.members.map((m: { email_address: string }) => m.email_address).sort()).toEqual(withEmail(treated).sort());
    expect(new Set(body.members.map((m: { status: string }) => m.status))).toEqual(new Set(["subscribed"]));
  });

  it("mailchimp: a chunk whose members Mailchimp refused inside a 200 is failed, not counted as delivered", async () => {
    interceptProvider(() => Response.json({ error_count: 1, errors: [{ email_address: "c0001@example.com", error: "c0001@example.com looks fake or invalid" }] }));
    const { job, runId } = await run({ type: "mailchimp", name: "MC2", config: { apiKey: "0123456789abcdef0123456789abcdef-us6", listId: "a1b2c3d4e5" } }, { address: { email: "email" } });
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/Mailchimp refused 1 of \d+ members: c0001@example.com/);
    const row = await env.DB.prepare("SELECT status, delivered_count FROM automation_runs WHERE id = ?").bind(runId).first<{ status: string; delivered_count: number }>();
    expect(row).toEqual({ status: "failed", delivered_count: 0 });
  });

  it("amazon_ses: one signed SendEmail per member, the template filled in", async () => {
    const sent = interceptProvider(() => Response.json({ MessageId: "x" }));
    const { job, treated } = await run(
      { type: "amazon_ses", name: "SES", config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", fromEmail: "news@example.com" } },
      { address: { email: "email" }, message: { subject: "Hello {{customer_id}}", body: "You are in {{segment_name}} ({{email}})" } },
    );
    expect(job.status).toBe("completed");
    expect(sent.length).toBe(withEmail(treated).length);
    for (const { request, body } of sent) {
      expect(request.url).toBe("https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails");
      expect(request.headers.get("Authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/);
      const email = JSON.parse(body);
      const to = email.Destination.ToAddresses[0] as string;
      const id = to.split("@")[0];
      expect(email).toEqual({
        FromEmailAddress: "news@example.com",
        Destination: { ToAddresses: [to] },
        Content: { Simple: { Subject: { Data: `Hello ${id}` }, Body: { Text: { Data: `You are in All (${to})` } } } },
      });
    }
  });

  it("twilio: one SMS per member; a refused member fails the chunk and replay sends only those not yet sent", async () => {
    let thirdPhone = "";
    // The third member of the first chunk (members go out in customer id order) is refused once.
    let refused: string | null = null;
    const sent = interceptProvider((_request, body) => {
      const to = new URLSearchParams(body).get("To");
      if (refused === null && to === thirdPhone) {
        refused = to;
        return Response.json({ code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 }, { status: 400 });
      }
      return Response.json({ sid: "SM" }, { status: 201 });
    });
    const sid = `AC${"0a".repeat(16)}`;
    const { job, treated, runId } = await run(
      { type: "twilio", name: "Twilio", config: { accountSid: sid, authToken: "0123456789abcdef0123456789abcdef", fromNumber: "+15005550006" } },
      { address: { phone: "phone" }, message: { body: "Hi {{customer_id}}" } },
      (treatedIndexes) => (thirdPhone = withPhone(treatedIndexes)[2]!),
    );
    const phones = withPhone(treated);
    // A run with other chunks delivered ends partial (job completed); with one chunk, failed.
    expect(job.status).toBe(phones.length > 25 ? "completed" : "failed");
    const firstRound = sent.length;
    for (const { request, body } of sent) {
      expect(request.url).toBe(`https://api.twilio.com/2010-04-01/Accounts/${sid}/Messages.json`);
      expect(request.headers.get("Authorization")).toBe(`Basic ${btoa(`${sid}:0123456789abcdef0123456789abcdef`)}`);
      const form = new URLSearchParams(body);
      expect(form.get("From")).toBe("+15005550006");
      expect(form.get("Body")).toMatch(/^Hi c\d{4}$/);
    }
    const runs = await json(await call("GET", `/api/automations/${(await json(await call("GET", `/api/projects/${t.project.id}/automations`, { token: t.owner.token }))).automations.at(-1).id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ status: phones.length > 25 ? "partial" : "failed", error_message: "400: The 'To' number is not a valid phone number." });
    const replay = await json(await call("POST", `/api/automation-runs/${runId}/replay`, { token: t.owner.token }));
    expect((await waitForJob(t.owner.token, replay.job_id, 30_000)).status).toBe("completed");
    const recipients = sent.filter((s) => s.request.url.endsWith("/Messages.json")).map((s) => new URLSearchParams(s.body).get("To"));
    // The refused member was tried twice; everyone else exactly once.
    expect(recipients.length).toBe(phones.length + 1);
    expect(new Set(recipients)).toEqual(new Set(phones));
    expect(sent.length - firstRound).toBe(Math.min(25, phones.length) - 2);
  });

  it("messagebird: one SMS per member from the originator", async () => {
    const sent = interceptProvider(() => Response.json({ id: "x" }, { status: 201 }));
    const { job, treated } = await run({ type: "messagebird", name: "MB", config: { apiKey: "live_abcdefghijklmnopqrstuvwx", originator: "Segmento" } }, { address: { phone: "phone" }, message: { body: "Hi {{customer_id}}" } });
    expect(job.status).toBe("completed");
    expect(sent.map((s) => JSON.parse(s.body).recipients[0]).sort()).toEqual(withPhone(treated).sort());
    expect(sent[0]!.request.url).toBe("https://rest.messagebird.com/messages");
    expect(sent[0]!.request.headers.get("Authorization")).toBe("AccessKey live_abcdefghijklmnopqrstuvwx");
    expect(JSON.parse(sent[0]!.body)).toMatchObject({ originator: "Segmento", body: expect.stringMatching(/^Hi c\d{4}$/) });
  });

  it("slack and teams: one summary message per run", async () => {
    const sent = interceptProvider(() => new Response("ok"));
    const slack = await run({ type: "slack", name: "Slack", config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX" } }, {});
    expect(slack.job.status).toBe("completed");
    expect(sent.length).toBe(1);
    expect(JSON.parse(sent[0]!.body).text).toBe(`Segment "All": ${slack.treated.length} added, 0 removed, ${N - slack.treated.length} held out, 0 skipped (${N} members; run ${slack.runId}).`);
    const teams = await run({ type: "teams", name: "Teams", config: { webhookUrl: "https://acme.webhook.office.com/webhookb2/x" } }, {});
    expect(teams.job.status).toBe("completed");
    expect(sent.length).toBe(2);
    expect(JSON.parse(sent[1]!.body)).toMatchObject({ "@type": "MessageCard", title: "Segmento: All", text: expect.stringContaining(`${teams.treated.length} added`) });
  });
});
