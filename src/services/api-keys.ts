import { and, desc, eq } from "drizzle-orm";
import { pageOf, type PageRequest } from "./paging";
import type { Database } from "../db/client";
import { apiKeys, projects } from "../db/schema";
import { ApiError } from "../errors";
import { fromHex, randomHex, sha256, sha256Hex, timingSafeEqual, toHex } from "../lib/crypto";
import { newId } from "../lib/ids";

const KEY_PATTERN = /^sk_live_[0-9a-f]{64}$/;
const PREFIX_LENGTH = "sk_live_".length + 6;

/**
 * How long this isolate trusts what it read about a key and its project. A key disabled, deleted or
 * expired elsewhere stops working within this time (expiry itself is checked on every request against
 * the cached date), and a project renamed through another isolate shows its new name to the key within it.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** last_used_at is a hint, not an audit log: written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export type VerifiedApiKey = {
  id: string;
  projectId: string;
  organizationId: string;
  enabled: boolean;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  keyHash: string;
  /** the key's project as read with the key: a key's own project is answered without another read */
  project: typeof projects.$inferSelect;
};

const cache = new Map<string, { key: VerifiedApiKey | null; fetchedAt: number }>();

export type ApiKeyRecord = typeof apiKeys.$inferSelect;

export function publicApiKey(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    keyPrefix: key.keyPrefix,
    enabled: key.enabled,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
  };
}

export const looksLikeApiKey = (credential: string) => credential.startsWith("sk_live_");

/** Mints a key: 32 bytes from the CSPRNG as hex; only its SHA-256 is stored. */
export async function createApiKey(db: Database, projectId: string, input: { name: string; expiresAt?: Date | null }) {
  const key = `sk_live_${randomHex(32)}`;
  const record: ApiKeyRecord = {
    id: newId(),
    projectId,
    name: input.name.trim(),
    keyPrefix: key.slice(0, PREFIX_LENGTH),
    keyHash: await sha256Hex(key),
    enabled: true,
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    createdAt: new Date(),
  };
  await db.insert(apiKeys).values(record);
  return { record, key };
}

export async function listApiKeys(db: Database, projectId: string, page: PageRequest) {
  const where = eq(apiKeys.projectId, projectId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(apiKeys).where(where).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).limit(limit).offset(offset).all(),
    () => db.$count(apiKeys, where),
  );
}

export async function findApiKey(db: Database, projectId: string, keyId: string) {
  const key = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId)))
    .get();
  if (!key) throw new ApiError("not_found");
  return key;
}

export async function updateApiKey(db: Database, key: ApiKeyRecord, changes: { name?: string; enabled?: boolean }) {
  const updated = await db
    .update(apiKeys)
    .set({ ...(changes.name !== undefined && { name: changes.name.trim() }), ...(changes.enabled !== undefined && { enabled: changes.enabled }) })
    .where(eq(apiKeys.id, key.id))
    .returning()
    .get();
  cache.delete(key.keyHash);
  return updated!;
}

export async function deleteApiKey(db: Database, key: ApiKeyRecord) {
  await db.delete(apiKeys).where(eq(apiKeys.id, key.id));
  cache.delete(key.keyHash);
}

/**
 * Resolves a raw `sk_live_` key to its project, or answers 401. Candidates are found by prefix and
 * matched by comparing fixed-length SHA-256 digests in constant time.
 */
export async function verifyApiKey(db: Database, rawKey: string, waitUntil: (p: Promise<unknown>) => void): Promise<VerifiedApiKey> {
  if (!KEY_PATTERN.test(rawKey)) throw new ApiError("invalid_api_key");
  const digest = await sha256(rawKey);
  const digestHex = toHex(digest);
  const now = Date.now();

  let entry = cache.get(digestHex);
  if (!entry || now - entry.fetchedAt > API_KEY_CACHE_TTL_MS) {
    entry = { key: await lookUp(db, rawKey.slice(0, PREFIX_LENGTH), digest), fetchedAt: now };
    cache.set(digestHex, entry);
    pruneCache(now);
  }
  const key = entry.key;
  if (!key || !key.enabled) throw new ApiError("invalid_api_key");
  if (key.expiresAt && key.expiresAt.getTime() <= now) throw new ApiError("api_key_expired");

  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    key.lastUsedAt = new Date(now);
    waitUntil(db.update(apiKeys).set({ lastUsedAt: key.lastUsedAt }).where(eq(apiKeys.id, key.id)));
  }
  return key;
}

async function lookUp(db: Database, prefix: string, digest: Uint8Array): Promise<VerifiedApiKey | null> {
  const candidates = await db
    .select({
      id: apiKeys.id,
      projectId: apiKeys.projectId,
      organizationId: projects.organizationId,
      enabled: apiKeys.enabled,
      expiresAt: apiKeys.expiresAt,
      lastUsedAt: apiKeys.lastUsedAt,
      keyHash: apiKeys.keyHash,
      project: projects,
    })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.keyPrefix, prefix))
    .all();
  let match: VerifiedApiKey | null = null;
  for (const candidate of candidates) {
    // Compare every candidate, so the time taken does not depend on which one matched.
    if (timingSafeEqual(fromHex(candidate.keyHash), digest)) match = candidate;
  }
  return match;
}

/** Drops what this isolate read about a project's keys, after the project itself changed here. */
export function forgetProjectKeys(projectId: string) {
  for (const [hash, entry] of cache) if (entry.key?.projectId === projectId) cache.delete(hash);
}

function pruneCache(now: number) {
  if (cache.size < 10_000) return;
  for (const [hash, entry] of cache) if (now - entry.fetchedAt > API_KEY_CACHE_TTL_MS) cache.delete(hash);
}
