import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index";

export type Call = {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
};

/** A request through the Worker's real fetch handler, with real local D1 and Durable Objects. */
export async function call(method: string, path: string, { token, body, headers = {} }: Call = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  const h = init.headers as Record<string, string>;
  if (token) h.Authorization = `Bearer ${token}`;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    h["Content-Type"] ??= "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return exports.default.fetch(new Request(`http://localhost${path}`, init));
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts the one error body of DESIGN.md with the given status and code. */
export async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(typeof body.error).toBe("string");
  expect(body.error.length).toBeGreaterThan(0);
  return body as { error: string; code: string; detail?: any };
}

let counter = 0;
export const unique = (label = "x") => `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export async function signUp(overrides: Partial<{ name: string; email: string; password: string }> = {}) {
  const input = { name: "Test User", email: `${unique("user")}@example.com`, password: "password-123", ...overrides };
  const res = await call("POST", "/api/auth/sign-up/email", { body: input });
  expect(res.status).toBe(201);
  const body = await json<{ token: string; user: { id: string; email: string } }>(res);
  return { ...input, token: body.token, user: body.user };
}

export async function createOrganization(token: string, name = "Acme") {
  const res = await call("POST", "/api/organizations", { token, body: { name } });
  expect(res.status).toBe(201);
  return json<{ id: string; name: string; slug: string; plan: string; role: string }>(res);
}

export async function createProject(token: string, organizationId: string, name = "Shop") {
  const res = await call("POST", `/api/organizations/${organizationId}/projects`, { token, body: { name } });
  expect(res.status).toBe(201);
  return json<{ id: string; organizationId: string; name: string }>(res);
}

export async function createApiKey(token: string, projectId: string, body: Record<string, unknown> = { name: "Ingest" }) {
  const res = await call("POST", `/api/projects/${projectId}/api-keys`, { token, body });
  expect(res.status).toBe(201);
  return json<{ id: string; key: string; keyPrefix: string; enabled: boolean; expiresAt: string | null }>(res);
}

/** A complete tenant: an owner with a session, an organization, a project and an API key. */
export async function tenant() {
  const owner = await signUp();
  const organization = await createOrganization(owner.token);
  const project = await createProject(owner.token, organization.id);
  const apiKey = await createApiKey(owner.token, project.id);
  return { owner, organization, project, apiKey };
}

/**
 * The test D1 with its batches refused by `error` (as D1 refuses an oversized value or loses the
 * network): every batch, or only batches holding a statement whose SQL includes `only`.
 */
export function d1RefusingBatches(error: string, only?: string): D1Database {
  const marked = new WeakSet<D1PreparedStatement>();
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare" && only) {
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (!sql.includes(only)) return statement;
          return {
            bind: (...values: unknown[]) => {
              const bound = statement.bind(...values);
              marked.add(bound);
              return bound;
            },
          };
        };
      }
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => (!only || statements.some((s) => marked.has(s)) ? Promise.reject(new Error(error)) : target.batch(statements));
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Hands the Worker's queue handler one message of `queue` (with `env` overridden) and returns its acks and retries. */
export async function consumeOne(queue: string, body: unknown, overrides: Partial<typeof env> = {}, id = "m1") {
  const batch = createMessageBatch(queue, [{ id, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}
