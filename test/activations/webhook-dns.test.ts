import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, expectError, json } from "../helpers";
import { waitForJob } from "../ingest/helpers";
import { fakeNetwork, uniqueHost, type Zone } from "../fake-dns";
import { activationTenant, createAutomation, createConnector, webhookConnector } from "./helpers";

type Tenant = Awaited<ReturnType<typeof activationTenant>>;
let t: Tenant;
beforeAll(async () => {
  t = await activationTenant(20);
}, 60_000);
afterEach(() => vi.restoreAllMocks());

const network = (zone: Zone) => fakeNetwork(zone).sent;

const connectorCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM connectors WHERE project_id = ?").bind(t.project.id).first<{ n: number }>())!.n;

describe("custom webhook hosts that resolve to private addresses", { timeout: 60_000 }, () => {
  it("are refused on create (400 url_not_allowed) and on PATCH (the stored URL stays)", async () => {
    const metadata = uniqueHost("metadata");
    const loopback6 = uniqueHost("loopback6");
    const good = uniqueHost("good");
    network({ [metadata]: [["A", "169.254.169.254"]], [loopback6]: [["A", "93.184.215.14"], ["AAAA", "::1"]], [good]: [["A", "93.184.215.14"]] });
    const before = await connectorCount();
    let body = await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: webhookConnector(`https://${metadata}/hook`) }), 400, "validation_error");
    expect(body.detail).toEqual([{ path: "config.url", code: "url_not_allowed", message: "the host name resolves to an address that is link-local (cloud metadata)" }]);
    expect(await connectorCount()).toBe(before);

    const created = await createConnector(t, webhookConnector(`https://${good}/hook`));
    body = await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { url: `https://${loopback6}/hook` } } }), 400, "validation_error");
    expect(body.detail).toEqual([{ path: "config.url", code: "url_not_allowed", message: "the host name resolves to an address that is loopback" }]);
    const read = await json(await call("GET", `/api/connectors/${created.id}`, { token: t.owner.token }));
    expect(read.config.url).toBe(`https://${good}/hook`);
  });

  it("refuses an unknown name, and answers 503 (storing nothing) when the resolver is down", async () => {
    network({});
    const body = await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: webhookConnector(`https://${uniqueHost("nx")}/hook`) }), 400, "validation_error");
    expect(body.detail[0]).toMatchObject({ path: "config.url", code: "url_not_allowed", message: "the host name does not resolve to an address" });

    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("unavailable", { status: 503 }));
    const before = await connectorCount();
    const error = await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: webhookConnector(`https://${uniqueHost("down")}/hook`) }), 503, "service_unavailable");
    expect(error.detail).toEqual({ reason: "the host name could not be checked: the DNS resolver answered HTTP 503" });
    expect(await connectorCount()).toBe(before);
  });

  it("fail the connector test (422) once the name points at a private address, without sending", async () => {
    const host = uniqueHost("rebound");
    const zone: Zone = { [host]: [["A", "93.184.215.14", 0]] };
    const sent = network(zone);
    const created = await createConnector(t, webhookConnector(`https://${host}/hook`));
    zone[host] = [["A", "10.0.0.5", 0]];
    const error = await expectError(await call("POST", `/api/connectors/${created.id}/test`, { token: t.owner.token }), 422, "integration_test_failed");
    expect(error.detail).toEqual({ provider_status: null, provider_message: "the URL is not allowed: the host name resolves to an address that is private" });
    expect(sent).toEqual([]);
  });

  it("fail the chunk at delivery (not retried), and nothing reaches the address", async () => {
    const host = uniqueHost("delivery");
    const zone: Zone = { [host]: [["A", "93.184.215.14", 0]] };
    const sent = network(zone);
    const connector = await createConnector(t, webhookConnector(`https://${host}/hook`));
    const automation = await createAutomation(t, { name: "DNS", segment_id: t.segmentId, connector_id: connector.id, holdout_pct: 0 });
    zone[host] = [["A", "93.184.215.14", 0], ["AAAA", "fd00::1", 0]];
    const res = await call("POST", `/api/automations/${automation.id}/run`, { token: t.owner.token });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    const job = await waitForJob(t.owner.token, accepted.job_id, 30_000);
    expect(sent).toEqual([]);
    const message = "no answer: the URL is not allowed: the host name resolves to an address that is unique-local";
    const runs = await json(await call("GET", `/api/automations/${automation.id}/runs`, { token: t.owner.token }));
    expect(runs.runs[0]).toMatchObject({ run_id: accepted.run_id, status: "failed", delivered: 0, error_message: message });
    expect(job.status).toBe("failed");
    const chunk = await env.DB.prepare("SELECT status, attempts FROM automation_chunks WHERE run_id = ?").bind(accepted.run_id).first<{ status: string; attempts: number }>();
    expect(chunk).toEqual({ status: "failed", attempts: 1 });
  });
});
