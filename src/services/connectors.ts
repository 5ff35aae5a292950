import { and, asc, eq, sql } from "drizzle-orm";
import type { z } from "@hono/zod-openapi";
import { database, type Database } from "../db/client";
import { connectors, type MemberRole } from "../db/schema";
import { config as envConfig, type Bindings } from "../env";
import { ApiError, type FieldError } from "../errors";
import { channels, ProviderError, type ChannelType } from "../activations/channels";
import type { ChannelContext } from "../activations/channels/channel";
import { checkOutboundTarget, OutboundRequestError, OutboundUrlError } from "../activations/outbound";
import { newId } from "../lib/ids";
import { keyRing, open, seal, SecretBoxError, sealedVersion, type KeyRing } from "../lib/secret-box";
import { assertCanAct, type Principal } from "./access";
import { automationsUsingConnector } from "./automations";
import { pageOf, type PageRequest } from "./paging";

export type ConnectorRecord = typeof connectors.$inferSelect;
/** What every read shows in place of a secret. */
export const REDACTED = "[REDACTED]";

type ConnectorConfig = Record<string, unknown>;

export function publicConnector(connector: ConnectorRecord) {
  const config: Record<string, unknown> = { ...connector.settings };
  for (const field of channels[connector.type].secretFields) if (connector.secrets[field] !== undefined) config[field] = REDACTED;
  return {
    id: connector.id,
    project_id: connector.projectId,
    name: connector.name,
    type: connector.type,
    config,
    last_test: connector.lastTestedAt
      ? { tested_at: connector.lastTestedAt.toISOString(), ok: connector.lastTestOk ?? false, error: connector.lastTestError }
      : null,
    created_at: connector.createdAt.toISOString(),
    updated_at: connector.updatedAt.toISOString(),
  };
}

/** Binds a sealed value to its connector and field, so it cannot be moved to another and still open. */
const associatedData = (connectorId: string, field: string) => `connector:${connectorId}:${field}`;

async function secretKeys(env: Bindings): Promise<KeyRing> {
  try {
    return await keyRing(env.CONNECTOR_ENCRYPTION_KEYS);
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    console.error(JSON.stringify({ level: "error", message: "connector secrets are unavailable", reason: error.message }));
    throw new ApiError("service_unavailable", { reason: "connector secrets cannot be sealed or opened: no valid CONNECTOR_ENCRYPTION_KEYS" });
  }
}

/** What a channel needs to know besides its configuration (the outbound policy from vars). */
export function channelContext(env: Bindings, connectorId: string, now?: Date): ChannelContext {
  const { outboundAllowLoopback, outboundDnsResolver } = envConfig(env);
  return { allowLoopback: outboundAllowLoopback, dnsResolver: outboundDnsResolver, connectorId, now };
}

/**
 * A channel's configuration checked in full: its field schema, then every URL it holds against the
 * outbound policy (private, loopback and metadata addresses in any spelling, also as what a custom
 * webhook's host name resolves to; the channel's hosts). The same checks run again before each request.
 */
async function validConfig(env: Bindings, type: ChannelType, config: ConnectorConfig): Promise<ConnectorConfig> {
  const channel = channels[type];
  const parsed = channel.config.safeParse(config);
  if (!parsed.success) throw new ApiError("validation_error", parsed.error.issues.map((issue: z.core.$ZodIssue) => configError(issue.path.map(String).join("."), issue.code, issue.message)));
  const { allowLoopback, dnsResolver } = channelContext(env, "");
  const errors: FieldError[] = [];
  for (const [field, policy] of Object.entries(channel.urlFields)) {
    const value = parsed.data[field];
    if (typeof value !== "string") continue;
    try {
      await checkOutboundTarget(value, { ...policy, allowLoopback, dnsResolver });
    } catch (error) {
      // The resolver failing is not the tenant's doing: 503 (retry later), and nothing is stored.
      if (error instanceof OutboundRequestError) throw new ApiError("service_unavailable", { reason: error.message });
      if (!(error instanceof OutboundUrlError)) throw error;
      errors.push(configError(field, "url_not_allowed", error.message));
    }
  }
  if (errors.length) throw new ApiError("validation_error", errors);
  return parsed.data;
}

const configError = (field: string, code: string, message: string): FieldError => ({ path: field ? `config.${field}` : "config", code, message });

/** Splits a configuration into settings and sealed secrets; `kept` gives a secret's unchanged sealed value. */
async function sealSecrets(ring: KeyRing, connectorId: string, type: ChannelType, config: ConnectorConfig, kept: (field: string) => string | undefined = () => undefined) {
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [field, value] of Object.entries(config)) {
    if (!channels[type].secretFields.includes(field)) settings[field] = value;
    else secrets[field] = kept(field) ?? (await seal(ring, String(value), associatedData(connectorId, field)));
  }
  return { settings, secrets };
}

export async function createConnector(env: Bindings, db: Database, project: { id: string; organizationId: string }, input: { name: string; type: ChannelType; config: ConnectorConfig }) {
  const id = newId();
  const config = await validConfig(env, input.type, input.config);
  const { settings, secrets } = await sealSecrets(await secretKeys(env), id, input.type, config);
  const now = new Date();
  const connector: ConnectorRecord = {
    id,
    projectId: project.id,
    organizationId: project.organizationId,
    type: input.type,
    name: input.name.trim(),
    settings,
    secrets,
    lastTestedAt: null,
    lastTestOk: null,
    lastTestError: null,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(connectors).values(connector);
  return connector;
}

export async function listConnectors(db: Database, projectId: string, page: PageRequest) {
  const where = eq(connectors.projectId, projectId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(connectors).where(where).orderBy(asc(connectors.createdAt), asc(connectors.id)).limit(limit).offset(offset).all(),
    () => db.$count(connectors, where),
  );
}

/** A connector the caller may see (members of its organization), or act on with `roles`; else 404 / 403. */
export async function connectorForPrincipal(db: Database, principal: Principal, connectorId: string, roles?: readonly MemberRole[]): Promise<ConnectorRecord> {
  const connector = await db.select().from(connectors).where(eq(connectors.id, connectorId)).get();
  await assertCanAct(db, principal, connector, roles);
  return connector!;
}

/**
 * The full configuration with secrets opened: for calling the provider, never for a response.
 * Secrets still sealed under an older key are sealed again under the current one on the way
 * (re-encryption on use, see resealConnectorSecrets); that write is best effort and never fails the call.
 */
export async function connectorCredentials(env: Bindings, connector: ConnectorRecord): Promise<ConnectorConfig> {
  const ring = await secretKeys(env);
  const config = await openConfig(ring, connector);
  if (staleSecrets(ring, connector).length) {
    await resealConnectorSecrets(database(env.DB), ring, connector).catch((error: unknown) => {
      console.error(JSON.stringify({ level: "error", message: "re-encrypting a connector's secrets failed", connector_id: connector.id, reason: error instanceof Error ? error.message : String(error) }));
    });
  }
  return config;
}

async function openConfig(ring: KeyRing, connector: ConnectorRecord): Promise<ConnectorConfig> {
  const config: ConnectorConfig = { ...connector.settings };
  for (const [field, sealed] of Object.entries(connector.secrets)) config[field] = await open(ring, sealed, associatedData(connector.id, field));
  return config;
}

/** The connector's secret fields sealed under a key other than the one that seals now. */
const staleSecrets = (ring: KeyRing, connector: ConnectorRecord) =>
  Object.entries(connector.secrets).filter(([, sealed]) => sealedVersion(sealed) !== ring.current.version);

/**
 * Seals the connector's secrets that are under an older key again under the current one: the same
 * plaintext, the connector id and field still the associated data, a fresh IV. The UPDATE is
 * conditional on the row still holding the ciphertexts that were read, so when a PATCH (or another
 * tick, or a delivery re-encrypting on use) wrote in between, that write stands and this one does
 * nothing. Returns whether it wrote. `updated_at` is left alone: the configuration did not change.
 */
export async function resealConnectorSecrets(db: Database, ring: KeyRing, connector: ConnectorRecord): Promise<boolean> {
  const stale = staleSecrets(ring, connector);
  if (!stale.length) return false;
  const secrets = { ...connector.secrets };
  for (const [field, sealed] of stale) {
    const ad = associatedData(connector.id, field);
    secrets[field] = await seal(ring, await open(ring, sealed, ad), ad);
  }
  const written = await db
    .update(connectors)
    .set({ secrets })
    .where(and(eq(connectors.id, connector.id), eq(connectors.secrets, connector.secrets)))
    .returning({ id: connectors.id })
    .get();
  return written !== undefined;
}

/** Connectors per scheduled tick whose secrets are sealed again after a key rotation. */
export const RESEAL_BATCH = 100;

/**
 * One tick of re-encryption after a key rotation (from the Worker's `scheduled` handler): up to
 * `limit` connectors with a secret under an older key are sealed again under the current one. Each
 * write is conditional (resealConnectorSecrets), so overlapping ticks and concurrent PATCHes are safe
 * and a second pass over a row changes nothing. While any remain it logs one line per tick with
 * `remaining`; the tick that logs `remaining: 0` is the signal that the older keys can be removed
 * from CONNECTOR_ENCRYPTION_KEYS (README, "Rotating the connector key"). A value no configured key
 * opens is logged and left (it counts as remaining: the key it needs must not be removed).
 */
export async function resealStaleConnectors(env: Bindings, limit = RESEAL_BATCH): Promise<{ keyVersion: number; resealed: number; remaining: number } | null> {
  if (!env.CONNECTOR_ENCRYPTION_KEYS?.trim()) return null; // no key: nothing can have been sealed
  const ring = await secretKeys(env);
  const db = database(env.DB);
  const keyVersion = ring.current.version;
  const underOlderKey = sql`EXISTS (SELECT 1 FROM json_each(${connectors.secrets}) WHERE json_each.value NOT LIKE ${`v${keyVersion}.%`})`;
  const rows = await db.select().from(connectors).where(underOlderKey).orderBy(asc(connectors.id)).limit(limit).all();
  if (!rows.length) return { keyVersion, resealed: 0, remaining: 0 };
  let resealed = 0;
  for (const row of rows) {
    try {
      if (await resealConnectorSecrets(db, ring, row)) resealed++;
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      console.error(JSON.stringify({ level: "error", message: "a connector secret does not open with the configured keys", connector_id: row.id, reason: error.message }));
    }
  }
  const remaining = await db.$count(connectors, underOlderKey);
  console.log(JSON.stringify({ level: "info", message: "connector secrets re-encrypted under the current key", key_version: keyVersion, resealed, remaining }));
  return { keyVersion, resealed, remaining };
}

/**
 * Renames a connector or changes fields of its configuration. Fields left out are kept, secrets
 * included (and a secret sent back as [REDACTED] is kept too); `null` removes an optional field.
 * The channel cannot change. The merged configuration is validated as a whole.
 */
export async function updateConnector(env: Bindings, db: Database, connector: ConnectorRecord, changes: { name?: string; config?: Record<string, string | null> }) {
  let stored: { settings: Record<string, unknown>; secrets: Record<string, string> } = { settings: connector.settings, secrets: connector.secrets };
  let configChanged = false;
  if (changes.config) {
    const { secretFields } = channels[connector.type];
    const ring = await secretKeys(env);
    const merged = await openConfig(ring, connector);
    const before = canonical(merged);
    for (const [field, value] of Object.entries(changes.config)) {
      if (value === REDACTED && secretFields.includes(field)) continue;
      if (value === null) delete merged[field];
      else merged[field] = value;
    }
    const config = await validConfig(env, connector.type, merged);
    configChanged = canonical(config) !== before;
    const patch = changes.config;
    // A secret the PATCH leaves as it was keeps its sealed value, unless an older key sealed it: then
    // this write seals it under the current key like the rest.
    const unchanged = (field: string) => {
      const sealed = patch[field] === undefined || patch[field] === REDACTED ? connector.secrets[field] : undefined;
      return sealed !== undefined && sealedVersion(sealed) === ring.current.version ? sealed : undefined;
    };
    stored = await sealSecrets(ring, connector.id, connector.type, config, unchanged);
  }
  const updated = await db
    .update(connectors)
    .set({
      ...(changes.name !== undefined && { name: changes.name.trim() }),
      ...stored,
      // A test of another URL or key says nothing about this one: the last test is forgotten.
      ...(configChanged && { lastTestedAt: null, lastTestOk: null, lastTestError: null }),
      updatedAt: new Date(),
    })
    .where(eq(connectors.id, connector.id))
    .returning()
    .get();
  return updated!;
}

const canonical = (config: Record<string, unknown>) => JSON.stringify(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));

/** Deletes a connector and its sealed secrets; one an automation uses refuses (409). */
export async function deleteConnector(db: Database, connector: ConnectorRecord) {
  const users = await automationsUsingConnector(db, connector.id);
  if (users.length) throw new ApiError("conflict", { reason: "automations use this connector", automation_ids: users.map((a) => a.id) });
  await db.delete(connectors).where(eq(connectors.id, connector.id));
}

/**
 * Calls the provider as the channel's test describes and records the outcome. A refusal is a 422
 * `integration_test_failed` carrying the provider's status and message, with any secret of the
 * connector that the message might echo replaced by [REDACTED].
 */
export async function testConnector(env: Bindings, db: Database, connector: ConnectorRecord) {
  const config = await connectorCredentials(env, connector);
  const now = new Date();
  try {
    await channels[connector.type].test(config, channelContext(env, connector.id, now));
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const message = withoutSecrets(error.message, connector, config);
    await db.update(connectors).set({ lastTestedAt: now, lastTestOk: false, lastTestError: message }).where(eq(connectors.id, connector.id));
    throw new ApiError("integration_test_failed", { provider_status: error.providerStatus, provider_message: message });
  }
  await db.update(connectors).set({ lastTestedAt: now, lastTestOk: true, lastTestError: null }).where(eq(connectors.id, connector.id));
  return { ok: true as const, tested_at: now.toISOString() };
}

/** A provider's words with the connector's secrets and webhook URLs (which carry tokens) taken out. */
export function withoutSecrets(text: string, connector: ConnectorRecord, config: ConnectorConfig) {
  const hidden = [...channels[connector.type].secretFields, ...Object.keys(channels[connector.type].urlFields)]
    .map((field) => config[field])
    .filter((value): value is string => typeof value === "string" && value.length >= 4)
    .sort((a, b) => b.length - a.length);
  return hidden.reduce((out, secret) => out.replaceAll(secret, REDACTED), text);
}
