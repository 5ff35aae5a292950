/**
 * What every operation shares, added once to the generated OpenAPI document rather than to each of the
 * route definitions: the headers every response carries, `security: []` on public operations (so a
 * generator does not assume the global default), 415 on operations that take a body, and the tags.
 */
type Operation = {
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: unknown }>;
};
type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: Record<string, Record<string, unknown>>;
  info: unknown;
  tags?: Array<{ name: string; description?: string }>;
  [key: string]: unknown;
};

const integerHeader = (description: string) => ({ description, schema: { type: "integer" } });

const sharedHeaders = {
  "RateLimit-Limit": integerHeader("Requests allowed in the window"),
  "RateLimit-Remaining": integerHeader("Requests left in the window"),
  "RateLimit-Reset": integerHeader("Seconds until a request is allowed again (the window's oldest request leaves it)"),
  "X-Request-Id": { description: "The request's id, as sent by the caller when sane, else generated; quote it in support requests", schema: { type: "string" } },
};
const retryAfter = { "Retry-After": integerHeader("Seconds to wait before retrying") };

const tagDescriptions: Record<string, string> = {
  System: "Liveness, this document and the interactive reference",
  Auth: "Accounts and sessions",
  Organizations: "Tenants: organizations and their members",
  Members: "Who belongs to an organization, with which role",
  Projects: "Datasets inside an organization",
  "API keys": "Project-scoped keys for server-to-server calls",
  Ingest: "Transactions in through the API",
  Files: "Uploads and ingest batches",
  Jobs: "Progress of queued work",
  Segments: "Cluster, rule and hybrid segments",
  Customers: "Customer profiles",
  Analytics: "Segment trends and overlap, activations, copilot and usage",
  "Analytics SQL": "Read-only SQL over the organization's star schema",
  "CRM analytics": "Activity, cohorts and lifecycles from the purchase history",
  Support: "Contact",
  Billing: "Plans, subscriptions on Stripe, invoices, payment methods and usage against the plan",
  Connectors: "Email, SMS, chat and webhook destinations of a project",
  Automations: "Segments bound to connectors: runs, holdout, delivery and sync logs",
};

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export function finishDocument<T extends object>(generated: T): T {
  const doc = generated as Document;
  // OpenAPI 3.1's SPDX `identifier` (the generator's types know only 3.0's license object).
  (doc.info as Record<string, unknown>).license = { name: "Proprietary", identifier: "LicenseRef-Proprietary" };
  doc.components ??= {};
  doc.components.headers = { ...doc.components.headers, ...sharedHeaders, ...retryAfter };
  const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
  const used = new Set<string>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!methods.includes(method)) continue;
      operation.security ??= [];
      for (const tag of operation.tags ?? []) used.add(tag);
      if (operation.requestBody && !operation.responses["415"]) {
        const badRequest = operation.responses["400"];
        operation.responses["415"] = { description: "The body is not in the documented media type (`unsupported_media_type`)", content: badRequest?.content };
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        response.headers = {
          ...Object.fromEntries(Object.keys(sharedHeaders).map((name) => [name, ref(name)])),
          ...(status === "429" || status === "503" ? { "Retry-After": ref("Retry-After") } : {}),
          ...response.headers,
        };
      }
    }
  }
  doc.tags = [...used].sort().map((name) => ({ name, ...(tagDescriptions[name] ? { description: tagDescriptions[name] } : {}) }));
  return generated;
}
