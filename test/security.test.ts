import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, tenant } from "./helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

/**
 * Every authenticated route, with a path built for a given tenant and a valid body. Each runs the same
 * security cases: no credential, a bad one, another tenant's ids, and the wrong kind of credential.
 */
const routes: Array<{
  method: string;
  path: (t: Tenant) => string;
  body?: unknown;
  accepts: "session" | "sessionOrApiKey";
  /** routes about the caller itself have no tenant id to probe */
  noTenantId?: boolean;
}> = [
  { method: "POST", path: () => "/api/auth/sign-out", accepts: "session", noTenantId: true },
  { method: "GET", path: () => "/api/auth/session", accepts: "session", noTenantId: true },
  { method: "POST", path: () => "/api/auth/organization/set-active", body: {}, accepts: "session", noTenantId: true },
  { method: "POST", path: () => "/api/organizations", body: { name: "x" }, accepts: "session", noTenantId: true },
  { method: "GET", path: () => "/api/organizations", accepts: "session", noTenantId: true },
  { method: "GET", path: (t) => `/api/organizations/${t.organization.id}`, accepts: "session" },
  { method: "GET", path: (t) => `/api/organizations/${t.organization.id}/members`, accepts: "session" },
  { method: "POST", path: (t) => `/api/organizations/${t.organization.id}/members`, body: { email: "a@example.com", role: "member" }, accepts: "session" },
  { method: "PATCH", path: (t) => `/api/organizations/${t.organization.id}/members/${t.owner.user.id}`, body: { role: "admin" }, accepts: "session" },
  { method: "DELETE", path: (t) => `/api/organizations/${t.organization.id}/members/${t.owner.user.id}`, accepts: "session" },
  { method: "POST", path: (t) => `/api/organizations/${t.organization.id}/projects`, body: { name: "x" }, accepts: "session" },
  { method: "GET", path: (t) => `/api/organizations/${t.organization.id}/projects`, accepts: "session" },
  { method: "GET", path: (t) => `/api/projects/${t.project.id}`, accepts: "sessionOrApiKey" },
  { method: "PATCH", path: (t) => `/api/projects/${t.project.id}`, body: { name: "x" }, accepts: "session" },
  { method: "DELETE", path: (t) => `/api/projects/${t.project.id}`, accepts: "session" },
  { method: "POST", path: (t) => `/api/projects/${t.project.id}/api-keys`, body: { name: "x" }, accepts: "session" },
  { method: "GET", path: (t) => `/api/projects/${t.project.id}/api-keys`, accepts: "session" },
  { method: "PATCH", path: (t) => `/api/projects/${t.project.id}/api-keys/${t.apiKey.id}`, body: { enabled: false }, accepts: "session" },
  { method: "DELETE", path: (t) => `/api/projects/${t.project.id}/api-keys/${t.apiKey.id}`, accepts: "session" },
];

const unknownKey = `sk_live_${"0".repeat(64)}`;

describe.each(routes)("$method $accepts route security", (route) => {
  let me: Tenant;
  let other: Tenant;
  beforeAll(async () => {
    [me, other] = await Promise.all([tenant(), tenant()]);
  });
  it("401 without a credential", async () => {
    await expectError(await call(route.method, route.path(me), { body: route.body }), 401, "unauthorized");
  });

  it("401 with a bad session token, an unknown API key, or a malformed header", async () => {
    await expectError(await call(route.method, route.path(me), { token: "eyJhbGciOiJIUzI1NiJ9.e30.x", body: route.body }), 401, "session_expired");
    await expectError(await call(route.method, route.path(me), { token: unknownKey, body: route.body }), 401, "invalid_api_key");
    await expectError(await call(route.method, route.path(me), { headers: { Authorization: "Token abc" }, body: route.body }), 401, "unauthorized");
  });

  if (!route.noTenantId) it("404 for another tenant's ids, which stay as they were", async () => {
    await expectError(await call(route.method, route.path(other), { token: me.owner.token, body: route.body }), 404, "not_found");
    expect((await call("GET", `/api/projects/${other.project.id}`, { token: other.apiKey.key })).status).toBe(200);
    const keys = await call("GET", `/api/projects/${other.project.id}/api-keys`, { token: other.owner.token });
    expect(((await keys.json()) as { apiKeys: Array<{ enabled: boolean }> }).apiKeys.every((k) => k.enabled)).toBe(true);
  });

  if (route.accepts === "session") {
    it("403 for an API key, even the tenant's own", async () => {
      await expectError(await call(route.method, route.path(me), { token: me.apiKey.key, body: route.body }), 403, "session_required");
    });
  } else {
    it("403 for an API key of another project", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key, body: route.body }), 403, "project_mismatch");
    });
  }
});
