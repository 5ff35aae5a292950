import { beforeAll, describe, expect, it, vi } from "vitest";
import { call, expectError, json, tenant as newTenant } from "./helpers";
import { ingest, waitForJob } from "./ingest/helpers";
import { billingOperations } from "./billing/operations";
import { insertFinishedRun } from "./activations/helpers";

/** A tenant with a file, a job, a modelled customer and segments of its own, so every kind of id can be probed. */
async function tenant() {
  const t = await newTenant();
  const accepted = await ingest(t.apiKey.key, t.project.id, [
    { customer_id: "c1", order_date: "2025-01-01", amount: 1 },
    { customer_id: "c2", order_date: "2025-01-02", amount: 2 },
  ]);
  await waitForJob(t.apiKey.key, accepted.job_id);
  let customerId = "";
  await vi.waitFor(
    async () => {
      const page = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?sort_by=customer_id&sort_dir=asc`, { token: t.owner.token }));
      expect(page.customers[0]?.segment_id).toBeTruthy();
      customerId = page.customers[0].id;
    },
    { timeout: 30_000, interval: 200 },
  );
  const rule = await json(
    await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "All", rules: [{ field: "rfm_frequency", op: "gte", value: 0 }] } }),
  );
  const connector = await json(await call("POST", `/api/projects/${t.project.id}/connectors`, { token: t.owner.token, body: slackConnector }));
  const automation = await json(
    await call("POST", `/api/projects/${t.project.id}/automations`, { token: t.owner.token, body: { name: "Alerts", segment_id: rule.id, connector_id: connector.id } }),
  );
  // A finished run with a failed chunk, so replay has something it could send.
  const runId = await insertFinishedRun(t, automation.id, { status: "failed", chunkStatus: "failed" });
  return {
    ...t,
    fileId: accepted.file_id,
    jobId: accepted.job_id,
    customerId,
    segmentId: rule.id as string,
    connectorId: connector.id as string,
    automationId: automation.id as string,
    runId,
  };
}

const slackConnector = { type: "slack", name: "Alerts", config: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX" } };

type Tenant = Awaited<ReturnType<typeof tenant>>;

const uploadForm = () => {
  const form = new FormData();
  form.append("file", new File(["customer_id,order_date,amount\nx,2025-01-01,1\n"], "x.csv", { type: "text/csv" }));
  return form;
};

/**
 * Every authenticated route, with a path built for a given tenant and a valid body. Each runs the same
 * security cases: no credential, a bad one, another tenant's ids, and the wrong kind of credential.
 */
const routes: Array<{
  method: string;
  path: (t: Tenant) => string;
  body?: unknown | ((t: Tenant) => unknown);
  accepts: "session" | "sessionOrApiKey" | "apiKey";
  /** the id in the path is not a project id: a key of another project gets 404, not 403 */
  idIsNotProject?: boolean;
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
  { method: "POST", path: () => "/api/v1/ingest", body: (t: Tenant) => ({ project_id: t.project.id, records: [{ customer_id: "x", order_date: "2025-01-01", amount: 1 }] }), accepts: "apiKey" },
  { method: "POST", path: (t) => `/api/engine/projects/${t.project.id}/files`, body: () => uploadForm(), accepts: "session" },
  { method: "GET", path: (t) => `/api/engine/projects/${t.project.id}/files`, accepts: "sessionOrApiKey" },
  { method: "GET", path: (t) => `/api/engine/files/${t.fileId}`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "DELETE", path: (t) => `/api/engine/files/${t.fileId}`, accepts: "session", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/jobs/${t.jobId}/status`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/jobs/${t.jobId}/progress`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/jobs/${t.jobId}/progress/stream`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/projects/${t.project.id}/segments`, accepts: "sessionOrApiKey" },
  { method: "POST", path: (t) => `/api/engine/projects/${t.project.id}/segments/preview`, body: { rules: [] }, accepts: "sessionOrApiKey" },
  { method: "POST", path: (t) => `/api/engine/projects/${t.project.id}/segments`, body: { name: "x", rules: [] }, accepts: "session" },
  { method: "GET", path: (t) => `/api/engine/segments/${t.segmentId}`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "PATCH", path: (t) => `/api/engine/segments/${t.segmentId}`, body: { name: "x" }, accepts: "session", idIsNotProject: true },
  { method: "DELETE", path: (t) => `/api/engine/segments/${t.segmentId}`, accepts: "session", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/projects/${t.project.id}/customers`, accepts: "sessionOrApiKey" },
  { method: "GET", path: (t) => `/api/engine/customers/${t.customerId}`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/customers/${t.customerId}/similar`, accepts: "sessionOrApiKey", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/engine/projects/${t.project.id}/overview`, accepts: "sessionOrApiKey" },
  { method: "POST", path: (t) => `/api/engine/projects/${t.project.id}/segmentation`, accepts: "session" },
  { method: "POST", path: (t) => `/api/engine/projects/${t.project.id}/copilot`, body: { prompt: "customers in TR" }, accepts: "sessionOrApiKey" },
  ...["overview", "segments", "overlap", "activations", "copilot", "usage", "signals/metadata"].map((name) => ({
    method: "GET",
    path: (t: Tenant) => `/api/analytics/${name}?project_id=${t.project.id}`,
    accepts: "sessionOrApiKey" as const,
  })),
  { method: "GET", path: () => "/api/analytics/schema", accepts: "sessionOrApiKey", noTenantId: true },
  { method: "POST", path: () => "/api/analytics/query", body: (t: Tenant) => ({ query: "SELECT 1", project_id: t.project.id }), accepts: "sessionOrApiKey" },
  ...["activity", "user_cohorts", "user_lifecycles"].map((name) => ({
    method: "GET",
    path: (t: Tenant) => `/api/crm/analytics/${name}?project_id=${t.project.id}`,
    accepts: "sessionOrApiKey" as const,
  })),
  { method: "GET", path: (t) => `/api/organizations/${t.organization.id}/analytics/usage`, accepts: "session" },
  ...billingOperations.map(([method, op, body]) => ({ method, path: (t: Tenant) => `/api/organizations/${t.organization.id}/${op}`, body, accepts: "session" as const })),
  { method: "POST", path: (t) => `/api/projects/${t.project.id}/connectors`, body: slackConnector, accepts: "session" },
  { method: "GET", path: (t) => `/api/projects/${t.project.id}/connectors`, accepts: "session" },
  { method: "GET", path: (t) => `/api/connectors/${t.connectorId}`, accepts: "session", idIsNotProject: true },
  { method: "PATCH", path: (t) => `/api/connectors/${t.connectorId}`, body: { name: "x" }, accepts: "session", idIsNotProject: true },
  { method: "DELETE", path: (t) => `/api/connectors/${t.connectorId}`, accepts: "session", idIsNotProject: true },
  { method: "POST", path: (t) => `/api/connectors/${t.connectorId}/test`, accepts: "session", idIsNotProject: true },
  {
    method: "POST",
    path: (t) => `/api/projects/${t.project.id}/automations`,
    body: (t: Tenant) => ({ name: "x", segment_id: t.segmentId, connector_id: t.connectorId }),
    accepts: "session",
  },
  { method: "GET", path: (t) => `/api/projects/${t.project.id}/automations`, accepts: "session" },
  { method: "GET", path: (t) => `/api/automations/${t.automationId}`, accepts: "session", idIsNotProject: true },
  { method: "PATCH", path: (t) => `/api/automations/${t.automationId}`, body: { name: "x" }, accepts: "session", idIsNotProject: true },
  { method: "DELETE", path: (t) => `/api/automations/${t.automationId}`, accepts: "session", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/automations/${t.automationId}/preview`, accepts: "session", idIsNotProject: true },
  { method: "POST", path: (t) => `/api/automations/${t.automationId}/run`, accepts: "session", idIsNotProject: true },
  { method: "GET", path: (t) => `/api/automations/${t.automationId}/runs`, accepts: "session", idIsNotProject: true },
  { method: "POST", path: (t) => `/api/automation-runs/${t.runId}/replay`, accepts: "session", idIsNotProject: true },
];

const bodyFor = (route: (typeof routes)[number], t: Tenant) => (typeof route.body === "function" ? route.body(t) : route.body);

const unknownKey = `sk_live_${"0".repeat(64)}`;

// Every case here is refused, so nothing changes: two tenants serve all the routes.
let me: Tenant;
let other: Tenant;
beforeAll(async () => {
  [me, other] = await Promise.all([tenant(), tenant()]);
}, 60_000);

/** Route paths with placeholders, to name the cases. */
const placeholders = {
  organization: { id: ":orgId" },
  project: { id: ":projectId" },
  owner: { user: { id: ":userId" } },
  apiKey: { id: ":keyId" },
  fileId: ":fileId",
  jobId: ":jobId",
  customerId: ":customerId",
  segmentId: ":segmentId",
  connectorId: ":connectorId",
  automationId: ":automationId",
  runId: ":runId",
} as unknown as Tenant;

describe.each(routes.map((route) => [`${route.method} ${route.path(placeholders)}`, route] as const))("%s", (_, route) => {
  it("401 without a credential", async () => {
    await expectError(await call(route.method, route.path(me), { body: bodyFor(route, me) }), 401, "unauthorized");
  });

  it("401 with a bad session token, an unknown API key, or a malformed header", async () => {
    await expectError(await call(route.method, route.path(me), { token: "eyJhbGciOiJIUzI1NiJ9.e30.x", body: bodyFor(route, me) }), 401, "session_expired");
    await expectError(await call(route.method, route.path(me), { token: unknownKey, body: bodyFor(route, me) }), 401, "invalid_api_key");
    await expectError(await call(route.method, route.path(me), { headers: { Authorization: "Token abc" }, body: bodyFor(route, me) }), 401, "unauthorized");
  });

  if (!route.noTenantId && route.accepts !== "apiKey") {
    it("404 for another tenant's ids, which stay as they were", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.owner.token, body: bodyFor(route, other) }), 404, "not_found");
      expect((await call("GET", `/api/projects/${other.project.id}`, { token: other.apiKey.key })).status).toBe(200);
      expect((await call("GET", `/api/engine/files/${other.fileId}`, { token: other.apiKey.key })).status).toBe(200);
      const keys = await call("GET", `/api/projects/${other.project.id}/api-keys`, { token: other.owner.token });
      expect(((await keys.json()) as { apiKeys: Array<{ enabled: boolean }> }).apiKeys.every((k) => k.enabled)).toBe(true);
    });
  }

  if (route.accepts === "session") {
    it("403 for an API key, even the tenant's own", async () => {
      await expectError(await call(route.method, route.path(me), { token: me.apiKey.key, body: bodyFor(route, me) }), 403, "session_required");
    });
  } else if (route.accepts === "apiKey") {
    it("403 for a session, and for a key used on another tenant's project", async () => {
      await expectError(await call(route.method, route.path(me), { token: me.owner.token, body: bodyFor(route, me) }), 403, "forbidden");
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key, body: bodyFor(route, other) }), 403, "project_mismatch");
    });
  } else if (route.noTenantId) {
    // Nothing of a tenant to probe (e.g. the schema): any valid credential may read it.
  } else if (route.idIsNotProject) {
    it("404 for an API key of another project", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key }), 404, "not_found");
    });
  } else {
    it("403 for an API key of another project", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key, body: bodyFor(route, other) }), 403, "project_mismatch");
    });
  }
});
