import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyWebhookSignature } from "../../src/activations/webhook-signature";
import { database } from "../../src/db/client";
import { keyRing, open, seal, SecretBoxError, sealedVersion } from "../../src/lib/secret-box";
import { connectorCredentials, connectorForPrincipal, createConnector } from "../../src/services/connectors";
import { call, expectError, json, signUp, tenant } from "../helpers";
import { interceptProvider } from "./helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const SECRETS = {
  webhookSigning: "whsec_0123456789abcdef0123",
  sendgrid: "SG.abcdefghijklmnop.qrstuvwxyz0123456789",
  mailchimp: "0123456789abcdef0123456789abcdef-us6",
  sesSecret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  twilio: "0123456789abcdef0123456789abcdef",
  messagebird: "live_abcdefghijklmnopqrstuvwx",
};

/** A valid body for each of the eight channels. */
const bodies = {
  custom_webhook: { type: "custom_webhook", name: "Webhook", config: { url: "https://hooks.example.com/segmento", signingSecret: SECRETS.webhookSigning } },
  sendgrid: { type: "sendgrid", name: "SendGrid", config: { apiKey: SECRETS.sendgrid } },
  mailchimp: { type: "mailchimp", name: "Mailchimp", config: { apiKey: SECRETS.mailchimp, listId: "a1b2c3d4e5" } },
  amazon_ses: { type: "amazon_ses", name: "SES", config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRETS.sesSecret, region: "eu-west-1", fromEmail: "news@example.com" } },
  twilio: { type: "twilio", name: "Twilio", config: { accountSid: `AC${"0a".repeat(16)}`, authToken: SECRETS.twilio, fromNumber: "+15005550006" } },
  messagebird: { type: "messagebird", name: "MessageBird", config: { apiKey: SECRETS.messagebird, originator: "Segmento" } },
  slack: { type: "slack", name: "Slack", config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXXXXXX" } },
  teams: { type: "teams", name: "Teams", config: { webhookUrl: "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=xyz" } },
} as const;

const secretFields: Record<string, string[]> = {
  custom_webhook: ["signingSecret"],
  sendgrid: ["apiKey"],
  mailchimp: ["apiKey"],
  amazon_ses: ["secretAccessKey"],
  twilio: ["authToken"],
  messagebird: ["apiKey"],
  slack: [],
  teams: [],
};

async function createConnectorVia(t: Tenant, body: unknown) {
  const res = await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return json(res);
}

let t: Tenant;
let other: Tenant;
beforeAll(async () => {
  [t, other] = await Promise.all([tenant(), tenant()]);
});
afterEach(() => vi.restoreAllMocks());

describe("connectors CRUD", { timeout: 30_000 }, () => {
  it.each(Object.entries(bodies))("creates a %s connector with its secrets sealed and redacted", async (type, body) => {
    const created = await createConnectorVia(t, body);
    expect(created).toMatchObject({ type, name: body.name, project_id: t.project.id, last_test: null });
    for (const [field, value] of Object.entries(body.config)) {
      expect(created.config[field]).toBe(secretFields[type]!.includes(field) ? "[REDACTED]" : value);
    }
    const row = await env.DB.prepare("SELECT settings, secrets FROM connectors WHERE id = ?").bind(created.id).first<{ settings: string; secrets: string }>();
    const secrets = JSON.parse(row!.secrets) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual([...secretFields[type]!].sort());
    for (const field of secretFields[type]!) {
      const plaintext = (body.config as Record<string, string>)[field]!;
      expect(row!.settings).not.toContain(plaintext);
      expect(row!.secrets).not.toContain(plaintext);
      expect(sealedVersion(secrets[field]!)).toBe(2);
    }
    const read = await json(await call("GET", `/api/connectors/${created.id}`, { token: t.owner.token }));
    expect(read).toEqual(created);
    const list = await json(await call("GET", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token }));
    expect(list.connectors.find((c: { id: string }) => c.id === created.id)).toEqual(created);
    expect(JSON.stringify(list)).not.toContain(Object.values(SECRETS).find((s) => JSON.stringify(body).includes(s)) ?? "\u0000");
  });

  it("seals the same secret differently each time (fresh IV), bound to its connector", async () => {
    const a = await createConnectorVia(t, bodies.sendgrid);
    const b = await createConnectorVia(t, bodies.sendgrid);
    const rows = await env.DB.prepare("SELECT id, secrets FROM connectors WHERE id IN (?, ?)").bind(a.id, b.id).all<{ id: string; secrets: string }>();
    const [sa, sb] = rows.results.map((r) => JSON.parse(r.secrets).apiKey as string);
    expect(sa).not.toBe(sb);
    expect(sa!.split(".")[1]).not.toBe(sb!.split(".")[1]);

    // A sealed value copied onto another connector does not open there.
    const db = database(env.DB);
    const principal = { kind: "session" as const, user: t.owner.user as never, session: {} as never };
    const connectorA = await connectorForPrincipal(db, { ...principal, user: { id: t.owner.user.id } as never }, a.id);
    expect((await connectorCredentials(env, connectorA)).apiKey).toBe(SECRETS.sendgrid);
    await env.DB.prepare("UPDATE connectors SET secrets = (SELECT secrets FROM connectors WHERE id = ?) WHERE id = ?").bind(a.id, b.id).run();
    const connectorB = await connectorForPrincipal(db, { ...principal, user: { id: t.owner.user.id } as never }, b.id);
    await expect(connectorCredentials(env, connectorB)).rejects.toThrow(SecretBoxError);
  });

  it("opens values sealed under an older key version and seals new ones with the first key", async () => {
    const oldKey = "1:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    const sealedOld = await seal(await keyRing(oldKey), "secret-value", "ad");
    expect(sealedVersion(sealedOld)).toBe(1);
    const ring = await keyRing(env.CONNECTOR_ENCRYPTION_KEYS);
    expect(await open(ring, sealedOld, "ad")).toBe("secret-value");
    expect(sealedVersion(await seal(ring, "secret-value", "ad"))).toBe(2);
    await expect(open(ring, sealedOld, "other")).rejects.toThrow(SecretBoxError);
    await expect(open(await keyRing("3:" + "ab".repeat(32)), sealedOld, "ad")).rejects.toThrow(SecretBoxError);
  });

  it("answers 503 when no encryption key is configured, storing nothing", async () => {
    const db = database(env.DB);
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM connectors WHERE project_id = ?").bind(t.project.id).first<{ n: number }>();
    await expect(createConnector({ ...env, CONNECTOR_ENCRYPTION_KEYS: undefined }, db, { id: t.project.id, organizationId: t.organization.id }, bodies.sendgrid)).rejects.toMatchObject({
      code: "service_unavailable",
    });
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM connectors WHERE project_id = ?").bind(t.project.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it("keeps secrets a PATCH leaves out or sends back as [REDACTED], and replaces those it gives", async () => {
    const created = await createConnectorVia(t, bodies.mailchimp);
    const authorizations: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      authorizations.push(new Headers(init?.headers).get("Authorization")!);
      expect(String(input)).toMatch(/^https:\/\/us\d+\.api\.mailchimp\.com\/3\.0\/lists\//);
      return Response.json({ id: "x", name: "x" });
    });
    const basic = (key: string) => `Basic ${btoa(`segmento:${key}`)}`;

    let res = await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { name: "Renamed", config: { listId: "zz99" } } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ name: "Renamed", config: { listId: "zz99", apiKey: "[REDACTED]" } });
    const tested = await call("POST", `/api/connectors/${created.id}/test`, { token: t.owner.token });
    expect(tested.status, await tested.clone().text()).toBe(200);

    res = await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { apiKey: "[REDACTED]", listId: "a1" } } });
    expect(res.status).toBe(200);
    expect((await call("POST", `/api/connectors/${created.id}/test`, { token: t.owner.token })).status).toBe(200);

    const newKey = "fedcba9876543210fedcba9876543210-us19";
    res = await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { apiKey: newKey } } });
    expect((await json(res)).config.apiKey).toBe("[REDACTED]");
    expect((await call("POST", `/api/connectors/${created.id}/test`, { token: t.owner.token })).status).toBe(200);
    expect(authorizations).toEqual([basic(SECRETS.mailchimp), basic(SECRETS.mailchimp), basic(newKey)]);
  });

  it("refuses a PATCH that breaks the configuration, changing nothing", async () => {
    const created = await createConnectorVia(t, bodies.twilio);
    const before = await env.DB.prepare("SELECT settings, secrets, name FROM connectors WHERE id = ?").bind(created.id).first();
    let body = await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { name: "x", config: { authToken: null } } }), 400, "validation_error");
    expect(body.detail[0].path).toBe("config.authToken");
    body = await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { accountSid: "nope" } } }), 400, "validation_error");
    expect(body.detail[0].path).toBe("config.accountSid");
    body = await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { url: "https://x.example.com" } } }), 400, "validation_error");
    await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: {} }), 400, "validation_error");
    await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { type: "slack" } }), 400, "validation_error");
    // Removing an optional field works.
    expect((await json(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { fromNumber: null } } }))).config).not.toHaveProperty("fromNumber");
    const after = await env.DB.prepare("SELECT secrets, name FROM connectors WHERE id = ?").bind(created.id).first();
    expect(after).toEqual({ secrets: (before as { secrets: string }).secrets, name: (before as { name: string }).name });
  });

  it("validates each channel's fields with details", async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: "sendgrid", name: "x", config: {} }, "config.apiKey"],
      [{ type: "mailchimp", name: "x", config: { apiKey: "abc" } }, "config.apiKey"],
      [{ type: "mailchimp", name: "x", config: { apiKey: SECRETS.mailchimp } }, "config.listId"],
      [{ type: "amazon_ses", name: "x", config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRETS.sesSecret, region: "mars" } }, "config.region"],
      [{ type: "twilio", name: "x", config: { accountSid: "AC1", authToken: SECRETS.twilio } }, "config.accountSid"],
      [{ type: "custom_webhook", name: "x", config: { url: "not a url" } }, "config.url"],
      [{ type: "custom_webhook", name: "x", config: { url: "https://hooks.example.com", extra: 1 } }, "config"],
      [{ type: "pigeon", name: "x", config: {} }, "type"],
      [{ type: "slack", config: { webhookUrl: "https://hooks.slack.com/services/x" } }, "name"],
    ];
    for (const [body, path] of cases) {
      const error = await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body }), 400, "validation_error");
      expect(error.detail.map((d: { path: string }) => d.path).join(","), JSON.stringify(body)).toContain(path);
    }
    await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: "{" }), 400, "invalid_json");
  });

  it("refuses URLs that reach private networks or other hosts (400 url_not_allowed)", async () => {
    const urls: Array<[string, string, string]> = [
      ["custom_webhook", "url", "https://169.254.169.254/latest/meta-data/"],
      ["custom_webhook", "url", "https://2130706433/hook"],
      ["custom_webhook", "url", "https://0x7f.1/hook"],
      ["custom_webhook", "url", "https://[::ffff:127.0.0.1]/hook"],
      ["custom_webhook", "url", "https://metadata.google.internal/"],
      ["custom_webhook", "url", "https://api.localhost/"],
      ["custom_webhook", "url", "http://hooks.example.com/"],
      ["custom_webhook", "url", "https://hooks.example.com:8443/"],
      ["custom_webhook", "url", "https://user:pw@hooks.example.com/"],
      ["custom_webhook", "url", "http://127.0.0.1:8080/"],
      ["slack", "webhookUrl", "https://hooks.example.com/services/x"],
      ["slack", "webhookUrl", "https://hooks.slack.com.evil.example/services/x"],
      ["teams", "webhookUrl", "https://evil.example/webhookb2/x"],
    ];
    for (const [type, field, url] of urls) {
      const error = await expectError(
        await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: { type, name: "x", config: { [field]: url } } }),
        400,
        "validation_error",
      );
      expect(error.detail, url).toEqual([expect.objectContaining({ path: `config.${field}`, code: "url_not_allowed" })]);
    }
    const created = await createConnectorVia(t, bodies.custom_webhook);
    const error = await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { url: "https://10.0.0.1/" } } }), 400, "validation_error");
    expect(error.detail[0]).toMatchObject({ path: "config.url", code: "url_not_allowed" });
  });

  it("lets members read and only owners and admins write or test", async () => {
    const member = await signUp();
    // The free plan has one seat.
    await env.DB.prepare("UPDATE organizations SET plan = 'pro' WHERE id = ?").bind(t.organization.id).run();
    expect((await call("POST", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token, body: { email: member.email, role: "member" } })).status).toBe(201);
    const created = await createConnectorVia(t, bodies.slack);
    expect((await call("GET", `/api/projects/${t.project.id}/connectors`, { token: member.token })).status).toBe(200);
    expect((await call("GET", `/api/connectors/${created.id}`, { token: member.token })).status).toBe(200);
    await expectError(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: member.token, body: bodies.slack }), 403, "insufficient_role");
    await expectError(await call("PATCH", `/api/connectors/${created.id}`, { token: member.token, body: { name: "x" } }), 403, "insufficient_role");
    await expectError(await call("POST", `/api/connectors/${created.id}/test`, { token: member.token }), 403, "insufficient_role");
    await expectError(await call("DELETE", `/api/connectors/${created.id}`, { token: member.token }), 403, "insufficient_role");
  });

  it("hides other tenants' connectors (404) and deletes", async () => {
    const theirs = await createConnectorVia(other, bodies.sendgrid);
    await expectError(await call("GET", `/api/connectors/${theirs.id}`, { token: t.owner.token }), 404, "not_found");
    await expectError(await call("DELETE", `/api/connectors/${theirs.id}`, { token: t.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/projects/${other.project.id}/connectors`, { token: t.owner.token }), 404, "not_found");
    expect((await call("GET", `/api/connectors/${theirs.id}`, { token: other.owner.token })).status).toBe(200);
    expect((await call("DELETE", `/api/connectors/${theirs.id}`, { token: other.owner.token })).status).toBe(204);
    await expectError(await call("GET", `/api/connectors/${theirs.id}`, { token: other.owner.token }), 404, "not_found");
  });

  it("is out of reach of the SQL API", async () => {
    for (const query of ["SELECT * FROM connectors", "SELECT secrets FROM main.connectors", "WITH c AS (SELECT * FROM connectors) SELECT * FROM c"]) {
      await expectError(await call("POST", "/api/analytics/query", { token: t.apiKey.key, body: { query } }), 400, "invalid_query");
    }
  });
});

/** Requests the test calls send, and the provider answers they get. */
const interceptFetch = (answer: (request: Request) => Response | Promise<Response>) => interceptProvider((request) => answer(request));

describe("POST /api/connectors/:id/test", { timeout: 30_000 }, () => {
  const testCall = async (type: keyof typeof bodies) => {
    const created = await createConnectorVia(t, bodies[type]);
    return { created, res: await call("POST", `/api/connectors/${created.id}/test`, { token: t.owner.token }) };
  };

  it("custom webhook: a signed POST the receiver can verify", async () => {
    const requests = interceptFetch(() => new Response("ok"));
    const { res, created } = await testCall("custom_webhook");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ ok: true });
    const [{ request, body }] = requests as [{ request: Request; body: string }];
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://hooks.example.com/segmento");
    expect(JSON.parse(body)).toMatchObject({ type: "segmento.test", connector_id: created.id });
    expect(request.headers.get("Idempotency-Key")).toBeTruthy();
    expect(await verifyWebhookSignature(SECRETS.webhookSigning, request.headers, body)).toBe(true);
    expect(await verifyWebhookSignature("another-secret-value", request.headers, body)).toBe(false);
    expect(await verifyWebhookSignature(SECRETS.webhookSigning, request.headers, body + " ")).toBe(false);
    expect((await json(await call("GET", `/api/connectors/${created.id}`, { token: t.owner.token }))).last_test).toMatchObject({ ok: true, error: null });
    // A rename keeps the last test; a new URL forgets it (it was a test of the old one).
    const renamed = await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { name: "renamed", config: { url: "https://hooks.example.com/segmento" } } });
    expect((await json(renamed)).last_test).toMatchObject({ ok: true });
    const moved = await call("PATCH", `/api/connectors/${created.id}`, { token: t.owner.token, body: { config: { url: "https://hooks.example.com/elsewhere" } } });
    expect(moved.status).toBe(200);
    expect((await json(moved)).last_test).toBeNull();
  });

  it("sendgrid: GET /v3/scopes with the key as a bearer token", async () => {
    const requests = interceptFetch(() => Response.json({ scopes: ["mail.send"] }));
    expect((await testCall("sendgrid")).res.status).toBe(200);
    expect(requests[0]!.request.url).toBe("https://api.sendgrid.com/v3/scopes");
    expect(requests[0]!.request.method).toBe("GET");
    expect(requests[0]!.request.headers.get("Authorization")).toBe(`Bearer ${SECRETS.sendgrid}`);
  });

  it("mailchimp: reads the audience on the key's data center with basic auth", async () => {
    const requests = interceptFetch(() => Response.json({ id: "a1b2c3d4e5", name: "Newsletter" }));
    expect((await testCall("mailchimp")).res.status).toBe(200);
    expect(requests[0]!.request.url).toBe("https://us6.api.mailchimp.com/3.0/lists/a1b2c3d4e5?fields=id,name");
    expect(requests[0]!.request.headers.get("Authorization")).toBe(`Basic ${btoa(`segmento:${SECRETS.mailchimp}`)}`);
  });

  it("amazon_ses: a SigV4-signed GetAccount in the connector's region", async () => {
    const requests = interceptFetch(() => Response.json({ SendingEnabled: true }));
    expect((await testCall("amazon_ses")).res.status).toBe(200);
    const { request } = requests[0]!;
    expect(request.url).toBe("https://email.eu-west-1.amazonaws.com/v2/email/account");
    expect(request.headers.get("Authorization")).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers.get("x-amz-date")).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request.headers.get("Authorization")).not.toContain(SECRETS.sesSecret);
  });

  it("twilio: fetches the account with SID and token", async () => {
    const requests = interceptFetch(() => Response.json({ sid: "AC", status: "active" }));
    expect((await testCall("twilio")).res.status).toBe(200);
    expect(requests[0]!.request.url).toBe(`https://api.twilio.com/2010-04-01/Accounts/AC${"0a".repeat(16)}.json`);
    expect(requests[0]!.request.headers.get("Authorization")).toBe(`Basic ${btoa(`AC${"0a".repeat(16)}:${SECRETS.twilio}`)}`);
  });

  it("messagebird: reads the balance with an AccessKey header", async () => {
    const requests = interceptFetch(() => Response.json({ payment: "prepaid", type: "credits", amount: 10 }));
    expect((await testCall("messagebird")).res.status).toBe(200);
    expect(requests[0]!.request.url).toBe("https://rest.messagebird.com/balance");
    expect(requests[0]!.request.headers.get("Authorization")).toBe(`AccessKey ${SECRETS.messagebird}`);
  });

  it("slack and teams: a test message to the webhook", async () => {
    const requests = interceptFetch(() => new Response("ok"));
    expect((await testCall("slack")).res.status).toBe(200);
    expect((await testCall("teams")).res.status).toBe(200);
    expect(requests[0]!.request.url).toBe(bodies.slack.config.webhookUrl);
    expect(JSON.parse(requests[0]!.body)).toEqual({ text: expect.stringContaining("Segmento") });
    expect(requests[1]!.request.url).toBe(bodies.teams.config.webhookUrl);
    expect(JSON.parse(requests[1]!.body)).toMatchObject({ "@type": "MessageCard", title: "Segmento connector test" });
  });

  const failures: Array<[keyof typeof bodies, () => Response, number | null, string]> = [
    ["sendgrid", () => Response.json({ errors: [{ field: null, message: "authorization required" }] }, { status: 401 }), 401, "authorization required"],
    ["mailchimp", () => Response.json({ type: "x", title: "Resource Not Found", status: 404, detail: "The requested resource could not be found." }, { status: 404 }), 404, "Resource Not Found: The requested resource could not be found."],
    [
      "amazon_ses",
      () => new Response(JSON.stringify({ message: "The security token included in the request is invalid." }), { status: 403, headers: { "x-amzn-ErrorType": "UnrecognizedClientException:http://internal.amazon.com/" } }),
      403,
      "UnrecognizedClientException: The security token included in the request is invalid.",
    ],
    ["twilio", () => Response.json({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 }, { status: 401 }), 401, "Authenticate"],
    ["messagebird", () => Response.json({ errors: [{ code: 2, description: "Request not allowed (incorrect access_key)", parameter: "access_key" }] }, { status: 401 }), 401, "Request not allowed (incorrect access_key)"],
    ["slack", () => new Response("invalid_token", { status: 403 }), 403, "invalid_token"],
    ["teams", () => new Response("Bad request", { status: 400 }), 400, "Bad request"],
    ["custom_webhook", () => new Response("boom", { status: 500 }), 500, "boom"],
    ["custom_webhook", () => new Response(null, { status: 301, headers: { Location: "https://10.0.0.1/" } }), 301, "the provider answered with a redirect, which is not followed"],
  ];
  it.each(failures)("%s: a provider refusal is 422 with its status and message", async (type, answer, status, message) => {
    interceptFetch(answer);
    const { res, created } = await testCall(type);
    const error = await expectError(res, 422, "integration_test_failed");
    expect(error.detail).toEqual({ provider_status: status, provider_message: message });
    const read = await json(await call("GET", `/api/connectors/${created.id}`, { token: t.owner.token }));
    expect(read.last_test).toMatchObject({ ok: false, error: message });
  });

  it("never shows a secret a provider echoes back", async () => {
    interceptFetch(() => Response.json({ errors: [{ message: `key ${SECRETS.sendgrid} is revoked` }] }, { status: 403 }));
    const { res } = await testCall("sendgrid");
    const text = await res.text();
    expect(res.status).toBe(422);
    expect(text).not.toContain(SECRETS.sendgrid);
    expect(JSON.parse(text).detail.provider_message).toBe("key [REDACTED] is revoked");
  });

  it("maps network failures and timeouts to 422 without a status", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("fetch failed"));
    const error = await expectError((await testCall("sendgrid")).res, 422, "integration_test_failed");
    expect(error.detail).toEqual({ provider_status: null, provider_message: "the request could not be sent (network error)" });
  });
});
