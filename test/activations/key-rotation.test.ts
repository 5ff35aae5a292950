import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { eq } from "drizzle-orm";
import { database } from "../../src/db/client";
import { connectors } from "../../src/db/schema";
import { keyRing, sealedVersion } from "../../src/lib/secret-box";
import { connectorCredentials, createConnector, resealConnectorSecrets, resealStaleConnectors } from "../../src/services/connectors";
import { call, json, tenant } from "../helpers";
import { publicDnsAnswer } from "../fake-dns";

type Tenant = Awaited<ReturnType<typeof tenant>>;

// The test env seals with key 2 and still opens key 1 (vitest.config.ts): "before the rotation" is an
// env whose only key is 1, so connectors created through it hold secrets sealed under version 1.
const OLD_KEY = env.CONNECTOR_ENCRYPTION_KEYS!.split(",").find((k) => k.startsWith("1:"))!;
const beforeRotation = { ...env, CONNECTOR_ENCRYPTION_KEYS: OLD_KEY };
const db = database(env.DB);

const bodies = {
  sendgrid: { type: "sendgrid", name: "SendGrid", config: { apiKey: "SG.abcdefghijklmnop.qrstuvwxyz0123456789" } },
  twilio: { type: "twilio", name: "Twilio", config: { accountSid: `AC${"0a".repeat(16)}`, authToken: "0123456789abcdef0123456789abcdef", fromNumber: "+15005550006" } },
  webhook: { type: "custom_webhook", name: "Webhook", config: { url: "https://hooks.example.com/segmento", signingSecret: "whsec_0123456789abcdef0123" } },
  ses: { type: "amazon_ses", name: "SES", config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", fromEmail: "news@example.com" } },
  slack: { type: "slack", name: "Slack", config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXXXXXX" } },
} as const;

let t: Tenant;
beforeAll(async () => {
  t = await tenant();
});
afterEach(() => vi.restoreAllMocks());

/** A connector whose secrets were sealed before the rotation (under key 1). */
const createdBeforeRotation = (body: (typeof bodies)[keyof typeof bodies]) =>
  createConnector(beforeRotation, db, { id: t.project.id, organizationId: t.organization.id }, { ...body, config: { ...body.config } });

const storedSecrets = async (id: string) => JSON.parse((await env.DB.prepare("SELECT secrets FROM connectors WHERE id = ?").bind(id).first<{ secrets: string }>())!.secrets) as Record<string, string>;
const versionsOf = (secrets: Record<string, string>) => Object.values(secrets).map(sealedVersion);
const row = async (id: string) => (await db.select().from(connectors).where(eq(connectors.id, id)).get())!;

async function scheduledTick() {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("re-encryption after a key rotation", { timeout: 30_000 }, () => {
  it("the scheduled handler seals every connector's secrets under the new key, same plaintext, and says when none remain", async () => {
    const created = await Promise.all([createdBeforeRotation(bodies.sendgrid), createdBeforeRotation(bodies.twilio), createdBeforeRotation(bodies.webhook), createdBeforeRotation(bodies.ses), createdBeforeRotation(bodies.slack)]);
    const before = new Map<string, { secrets: Record<string, string>; plaintext: Record<string, unknown> }>();
    for (const connector of created) {
      expect(versionsOf(connector.secrets).every((v) => v === 1)).toBe(true);
      before.set(connector.id, { secrets: connector.secrets, plaintext: await connectorCredentials(beforeRotation, connector) });
    }
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void logs.push(line));

    await scheduledTick();

    for (const connector of created) {
      const secrets = await storedSecrets(connector.id);
      expect(Object.keys(secrets)).toEqual(Object.keys(before.get(connector.id)!.secrets));
      expect(versionsOf(secrets).every((v) => v === 2)).toBe(true);
      for (const [field, sealed] of Object.entries(secrets)) expect(sealed).not.toBe(before.get(connector.id)!.secrets[field]);
      const reread = await row(connector.id);
      expect(await connectorCredentials(env, reread)).toEqual(before.get(connector.id)!.plaintext);
      // The key that sealed them is the new one alone: the old key is no longer needed to open them.
      expect(await connectorCredentials({ ...env, CONNECTOR_ENCRYPTION_KEYS: env.CONNECTOR_ENCRYPTION_KEYS!.split(",")[0] }, reread)).toEqual(before.get(connector.id)!.plaintext);
    }
    const report = logs.map((line) => JSON.parse(line)).find((entry) => entry.message === "connector secrets re-encrypted under the current key");
    expect(report).toEqual({ level: "info", message: "connector secrets re-encrypted under the current key", key_version: 2, resealed: 4, remaining: 0 });

    // Idempotent: another tick finds nothing to do and changes nothing.
    const after = await Promise.all(created.map((c) => storedSecrets(c.id)));
    expect(await resealStaleConnectors(env)).toEqual({ keyVersion: 2, resealed: 0, remaining: 0 });
    await scheduledTick();
    expect(await Promise.all(created.map((c) => storedSecrets(c.id)))).toEqual(after);
  });

  it("works in bounded batches and counts what remains", async () => {
    const created = await Promise.all([createdBeforeRotation(bodies.sendgrid), createdBeforeRotation(bodies.twilio), createdBeforeRotation(bodies.ses)]);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await resealStaleConnectors(env, 2)).toEqual({ keyVersion: 2, resealed: 2, remaining: 1 });
    expect(await resealStaleConnectors(env, 2)).toEqual({ keyVersion: 2, resealed: 1, remaining: 0 });
    for (const connector of created) expect(versionsOf(await storedSecrets(connector.id))).toEqual([2]);
  });

  it("overlapping ticks re-encrypt each connector once and lose nothing", async () => {
    const created = await Promise.all([createdBeforeRotation(bodies.sendgrid), createdBeforeRotation(bodies.twilio), createdBeforeRotation(bodies.webhook)]);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const [a, b] = await Promise.all([resealStaleConnectors(env), resealStaleConnectors(env)]);
    expect(a!.resealed + b!.resealed).toBe(3);
    for (const connector of created) {
      expect(versionsOf(await storedSecrets(connector.id)).every((v) => v === 2)).toBe(true);
      expect(await connectorCredentials(env, await row(connector.id))).toEqual(await connectorCredentials(beforeRotation, connector));
    }
  });

  it("a PATCH of a secret between the read and the re-encryption stands", async () => {
    const stale = await createdBeforeRotation(bodies.sendgrid);
    const ring = await keyRing(env.CONNECTOR_ENCRYPTION_KEYS);
    // The tick has read the row (stale); the tenant replaces the key before the tick writes.
    const res = await call("PATCH", `/api/connectors/${stale.id}`, { token: t.owner.token, body: { config: { apiKey: "SG.replacedreplacedreplaced.0123456789" } } });
    expect(res.status).toBe(200);
    const patched = await storedSecrets(stale.id);
    expect(await resealConnectorSecrets(db, ring, stale)).toBe(false);
    expect(await storedSecrets(stale.id)).toEqual(patched);
    expect(await connectorCredentials(env, await row(stale.id))).toMatchObject({ apiKey: "SG.replacedreplacedreplaced.0123456789" });
  });

  it("a PATCH seals every secret it keeps under the new key; a rename alone leaves them", async () => {
    const connector = await createdBeforeRotation(bodies.twilio);
    let res = await call("PATCH", `/api/connectors/${connector.id}`, { token: t.owner.token, body: { name: "Renamed" } });
    expect(res.status).toBe(200);
    expect(await storedSecrets(connector.id)).toEqual(connector.secrets);
    res = await call("PATCH", `/api/connectors/${connector.id}`, { token: t.owner.token, body: { config: { fromNumber: "+15005550007" } } });
    expect(res.status).toBe(200);
    expect(versionsOf(await storedSecrets(connector.id))).toEqual([2]);
    expect(await connectorCredentials(env, await row(connector.id))).toMatchObject({ authToken: bodies.twilio.config.authToken, fromNumber: "+15005550007" });
  });

  it("re-encrypts on use: a connector test rewrites an old secret under the new key and sends the same credential", async () => {
    const connector = await createdBeforeRotation(bodies.sendgrid);
    const authorizations: Array<string | null> = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      const dns = publicDnsAnswer(request);
      if (dns) return dns;
      authorizations.push(request.headers.get("Authorization"));
      return Response.json({ scopes: ["marketing.read"] });
    });
    const res = await call("POST", `/api/connectors/${connector.id}/test`, { token: t.owner.token });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(authorizations).toEqual([`Bearer ${bodies.sendgrid.config.apiKey}`]);
    expect(versionsOf(await storedSecrets(connector.id))).toEqual([2]);
    expect(await connectorCredentials(env, await row(connector.id))).toMatchObject({ apiKey: bodies.sendgrid.config.apiKey });
    const read = await json(await call("GET", `/api/connectors/${connector.id}`, { token: t.owner.token }));
    expect(read.updated_at).toBe(connector.updatedAt.toISOString());
  });
});
