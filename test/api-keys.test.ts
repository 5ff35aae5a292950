import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { API_KEY_CACHE_TTL_MS } from "../src/services/api-keys";
import { call, createApiKey, expectError, json, tenant } from "./helpers";

const keys = (projectId: string, keyId?: string) => `/api/projects/${projectId}/api-keys${keyId ? `/${keyId}` : ""}`;

describe("API keys", () => {
  it("returns the raw key once, in the seed's shape, and stores only its SHA-256", async () => {
    const { owner, project } = await tenant();
    const res = await call("POST", keys(project.id), { token: owner.token, body: { name: "Production ingest", expiresAt: "2099-01-01T00:00:00Z" } });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created.key).toMatch(/^sk_live_[0-9a-f]{64}$/);
    expect(created).toMatchObject({ name: "Production ingest", enabled: true, expiresAt: "2099-01-01T00:00:00.000Z" });
    expect(created.keyPrefix).toBe(created.key.slice(0, 14));
    expect(Object.keys(created).sort()).toEqual(["createdAt", "enabled", "expiresAt", "id", "key", "keyPrefix", "lastUsedAt", "name"]);

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(created.key)));
    expect(row!.key_hash).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const list = await json(await call("GET", keys(project.id), { token: owner.token }));
    const listed = list.apiKeys.find((k: { id: string }) => k.id === created.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty("key");
    expect(JSON.stringify(list)).not.toContain(created.key.slice(14));
  });

  it("makes every key unique", async () => {
    const { owner, project } = await tenant();
    const a = await createApiKey(owner.token, project.id);
    const b = await createApiKey(owner.token, project.id);
    expect(a.key).not.toBe(b.key);
  });

  it("rejects unknown, malformed and well-formed-but-wrong keys (401)", async () => {
    const { project, apiKey } = await tenant();
    const wrong = apiKey.key.slice(0, -1) + (apiKey.key.endsWith("0") ? "1" : "0");
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: wrong }), 401, "invalid_api_key");
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: "sk_live_short" }), 401, "invalid_api_key");
  });

  it("refuses an expired key (401 api_key_expired) and a past expiresAt at creation (400)", async () => {
    const { owner, project } = await tenant();
    await expectError(await call("POST", keys(project.id), { token: owner.token, body: { name: "old", expiresAt: "2001-01-01T00:00:00Z" } }), 400, "validation_error");
    await expectError(await call("POST", keys(project.id), { token: owner.token, body: { name: "bad", expiresAt: "tomorrow" } }), 400, "validation_error");
    const soon = await createApiKey(owner.token, project.id, { name: "soon", expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await call("GET", `/api/projects/${project.id}`, { token: soon.key })).status).toBe(200);
    vi.useFakeTimers({ now: Date.now() + 120_000, toFake: ["Date"] });
    try {
      await expectError(await call("GET", `/api/projects/${project.id}`, { token: soon.key }), 401, "api_key_expired");
    } finally {
      vi.useRealTimers();
    }
  });

  it("disables, re-enables, renames and deletes; a disabled or deleted key stops working", async () => {
    const { owner, project, apiKey } = await tenant();
    expect((await call("GET", `/api/projects/${project.id}`, { token: apiKey.key })).status).toBe(200);
    const disabled = await call("PATCH", keys(project.id, apiKey.id), { token: owner.token, body: { enabled: false, name: "Paused" } });
    expect(await json(disabled)).toMatchObject({ enabled: false, name: "Paused" });
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }), 401, "invalid_api_key");
    await call("PATCH", keys(project.id, apiKey.id), { token: owner.token, body: { enabled: true } });
    expect((await call("GET", `/api/projects/${project.id}`, { token: apiKey.key })).status).toBe(200);
    expect((await call("DELETE", keys(project.id, apiKey.id), { token: owner.token })).status).toBe(204);
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }), 401, "invalid_api_key");
    await expectError(await call("DELETE", keys(project.id, apiKey.id), { token: owner.token }), 404, "not_found");
  });

  it("stops a key disabled behind the isolate's back within the cache TTL", async () => {
    const { project, apiKey } = await tenant();
    expect((await call("GET", `/api/projects/${project.id}`, { token: apiKey.key })).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET enabled = 0 WHERE id = ?").bind(apiKey.id).run();
    // Within the TTL this isolate still trusts what it read: that is the cache the benchmark measures.
    expect((await call("GET", `/api/projects/${project.id}`, { token: apiKey.key })).status).toBe(200);
    expect(API_KEY_CACHE_TTL_MS).toBeLessThanOrEqual(10_000);
    vi.useFakeTimers({ now: Date.now() + API_KEY_CACHE_TTL_MS + 1, toFake: ["Date"] });
    try {
      await expectError(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }), 401, "invalid_api_key");
    } finally {
      vi.useRealTimers();
    }
  });

  it("records last use", async () => {
    const { owner, project, apiKey } = await tenant();
    await call("GET", `/api/projects/${project.id}`, { token: apiKey.key });
    await vi.waitFor(async () => {
      const list = await json(await call("GET", keys(project.id), { token: owner.token }));
      expect(list.apiKeys[0].lastUsedAt).not.toBeNull();
    });
  });

  it("validates bodies (400): empty patch, wrong types", async () => {
    const { owner, project, apiKey } = await tenant();
    await expectError(await call("PATCH", keys(project.id, apiKey.id), { token: owner.token, body: {} }), 400, "validation_error");
    await expectError(await call("PATCH", keys(project.id, apiKey.id), { token: owner.token, body: { enabled: "no" } }), 400, "validation_error");
    await expectError(await call("POST", keys(project.id), { token: owner.token, body: { name: 5 } }), 400, "validation_error");
  });

  it("keeps keys of other tenants out of reach (404) and keys out of key management (403)", async () => {
    const a = await tenant();
    const b = await tenant();
    await expectError(await call("GET", keys(b.project.id), { token: a.owner.token }), 404, "not_found");
    await expectError(await call("POST", keys(b.project.id), { token: a.owner.token, body: { name: "x" } }), 404, "not_found");
    await expectError(await call("PATCH", keys(b.project.id, b.apiKey.id), { token: a.owner.token, body: { enabled: false } }), 404, "not_found");
    await expectError(await call("DELETE", keys(b.project.id, b.apiKey.id), { token: a.owner.token }), 404, "not_found");
    // b's key addressed through a's project is not found either.
    await expectError(await call("DELETE", keys(a.project.id, b.apiKey.id), { token: a.owner.token }), 404, "not_found");
    await expectError(await call("GET", keys(a.project.id), { token: a.apiKey.key }), 403, "session_required");
    expect((await call("GET", `/api/projects/${b.project.id}`, { token: b.apiKey.key })).status).toBe(200);
  });
});
