import { beforeAll, describe, expect, it, vi } from "vitest";
import { security } from "../src/routes/router";
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

/** How each path parameter is filled from a tenant. A route with a parameter not named here fails the suite. */
const idOf: Record<string, (t: Tenant) => string> = {
  orgId: (t) => t.organization.id,
  projectId: (t) => t.project.id,
  keyId: (t) => t.apiKey.id,
  userId: (t) => t.owner.user.id,
  fileId: (t) => t.fileId,
  jobId: (t) => t.jobId,
  customerId: (t) => t.customerId,
  segmentId: (t) => t.segmentId,
  connectorId: (t) => t.connectorId,
  automationId: (t) => t.automationId,
  runId: (t) => t.runId,
};

/**
 * A valid body for every operation that takes one, by "METHOD /openapi/path", so a refusal is the
 * credential's doing and never the body's. An operation with a request body missing here fails the suite.
 */
const bodies: Record<string, (t: Tenant) => unknown> = {
  "POST /api/auth/organization/set-active": () => ({}),
  "POST /api/organizations": () => ({ name: "x" }),
  "POST /api/organizations/{orgId}/members": () => ({ email: "a@example.com", role: "member" }),
  "PATCH /api/organizations/{orgId}/members/{userId}": () => ({ role: "admin" }),
  "POST /api/organizations/{orgId}/projects": () => ({ name: "x" }),
  "PATCH /api/projects/{projectId}": () => ({ name: "x" }),
  "POST /api/projects/{projectId}/api-keys": () => ({ name: "x" }),
  "PATCH /api/projects/{projectId}/api-keys/{keyId}": () => ({ enabled: false }),
  "POST /api/v1/ingest": (t) => ({ project_id: t.project.id, records: [{ customer_id: "x", order_date: "2025-01-01", amount: 1 }] }),
  "POST /api/engine/projects/{projectId}/files": () => uploadForm(),
  "POST /api/engine/projects/{projectId}/segments/preview": () => ({ rules: [] }),
  "POST /api/engine/projects/{projectId}/segments": () => ({ name: "x", rules: [] }),
  "PATCH /api/engine/segments/{segmentId}": () => ({ name: "x" }),
  "POST /api/engine/projects/{projectId}/copilot": () => ({ prompt: "customers in TR" }),
  "POST /api/analytics/query": (t) => ({ query: "SELECT 1", project_id: t.project.id }),
  "POST /api/projects/{projectId}/connectors": () => slackConnector,
  "PATCH /api/connectors/{connectorId}": () => ({ name: "x" }),
  "POST /api/projects/{projectId}/automations": (t) => ({ name: "x", segment_id: t.segmentId, connector_id: t.connectorId }),
  "PATCH /api/automations/{automationId}": () => ({ name: "x" }),
  ...Object.fromEntries(
    billingOperations.flatMap(([method, op, body]) => (body ? [[`${method} /api/organizations/{orgId}/${op}`, () => body]] : [])),
  ),
};

type Operation = {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string; properties?: Record<string, unknown> } }> };
};

/**
 * Every authenticated operation of the served OpenAPI document (which documents every route the app
 * serves: test/openapi.test.ts), so a new route runs these cases without a line added here. Each runs
 * the same security cases: no credential, a bad one, another tenant's ids, and the wrong kind of credential.
 */
const doc = (await json(await call("GET", "/openapi.json"))) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

const accepted = Object.entries(security).filter(([, requirement]) => requirement.length > 0);

const routes = Object.entries(doc.paths).flatMap(([template, item]) =>
  Object.entries(item).flatMap(([method, operation]) => {
    const name = `${method.toUpperCase()} ${template}`;
    if (!operation.security || operation.security.length === 0) return [];
    const accepts = accepted.find(([, requirement]) => JSON.stringify(requirement) === JSON.stringify(operation.security))?.[0];
    if (!accepts) throw new Error(`${name}: security ${JSON.stringify(operation.security)} is none of router.ts's \`security\` kinds`);
    const params = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    for (const param of params) if (!idOf[param]) throw new Error(`${name}: no fixture for path parameter {${param}}; add it to idOf in test/security.test.ts`);
    const body = bodies[name];
    if (operation.requestBody && !body) throw new Error(`${name} takes a request body: add a valid one to bodies in test/security.test.ts`);
    const projectInQuery = (operation.parameters ?? []).some((p) => p.in === "query" && p.name === "project_id");
    const projectInBody = Object.values(operation.requestBody?.content ?? {}).some((media) => "project_id" in (schemaOf(media.schema).properties ?? {}));
    /** the caller names a project (a key of another project gets 403), rather than a resource found by its own id (404) */
    const namesProject = params.includes("projectId") || projectInQuery || projectInBody;
    return [
      {
        name,
        method: method.toUpperCase(),
        path: (t: Tenant) => template.replace(/\{(\w+)\}/g, (_, param: string) => idOf[param]!(t)) + (projectInQuery ? `?project_id=${t.project.id}` : ""),
        body,
        accepts: accepts as keyof typeof security,
        namesProject,
        /** routes about the caller itself have no tenant id to probe */
        noTenantId: params.length === 0 && !namesProject,
      },
    ];
  }),
);

function schemaOf(schema: { $ref?: string; properties?: Record<string, unknown> }): { properties?: Record<string, unknown> } {
  return schema.$ref ? doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")] : schema;
}

const bodyFor = (route: (typeof routes)[number], t: Tenant) => route.body?.(t);

const unknownKey = `sk_live_${"0".repeat(64)}`;

// Every case here is refused, so nothing changes: two tenants serve all the routes.
let me: Tenant;
let other: Tenant;
beforeAll(async () => {
  [me, other] = await Promise.all([tenant(), tenant()]);
}, 60_000);

it("covers every kind of route and has no body for an operation that does not exist", () => {
  expect(routes.length).toBeGreaterThan(60);
  for (const kind of ["session", "sessionOrApiKey", "apiKey"]) expect(routes.some((route) => route.accepts === kind), kind).toBe(true);
  const names = new Set(routes.map((route) => route.name));
  for (const name of Object.keys(bodies)) expect(names, `bodies["${name}"]`).toContain(name);
});

describe.each(routes.map((route) => [route.name, route] as const))("%s", (_, route) => {
  it("400 for a query parameter the route does not document, with a credential it accepts", async () => {
    const path = route.path(me);
    const token = route.accepts === "apiKey" ? me.apiKey.key : me.owner.token;
    const response = await call(route.method, `${path}${path.includes("?") ? "&" : "?"}no_such_param=1`, { token, body: bodyFor(route, me) });
    const body = await expectError(response, 400, "validation_error");
    expect(body.detail).toEqual([expect.objectContaining({ code: "unrecognized_keys" })]);
  });

  it("401 without a credential, with a Bearer challenge", async () => {
    const response = await call(route.method, route.path(me), { body: bodyFor(route, me) });
    await expectError(response, 401, "unauthorized");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="segmento"');
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
  } else if (!route.namesProject) {
    it("404 for an API key of another project", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key }), 404, "not_found");
    });
  } else {
    it("403 for an API key of another project", async () => {
      await expectError(await call(route.method, route.path(other), { token: me.apiKey.key, body: bodyFor(route, other) }), 403, "project_mismatch");
    });
  }
});
