import { createMiddleware } from "hono/factory";
import { cors } from "hono/cors";
import type { Bindings } from "../env";

/** Headers a browser app may read from our responses (rate limits, request ids, created resources). */
const exposedHeaders = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "X-Request-Id", "Location", "Content-Language"];
const allowedRequestHeaders = ["Authorization", "Content-Type", "Accept-Language", "Last-Event-ID", "X-Request-Id"];

const allowListed = cors({
  origin: (origin) => origin,
  credentials: true,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  allowHeaders: allowedRequestHeaders,
  exposeHeaders: exposedHeaders,
  maxAge: 600,
});

/**
 * Cross-origin access for browser apps on the origins listed in `CORS_ALLOWED_ORIGINS` (comma
 * separated; `*` stands for any port, as in `http://localhost:*`). None by default in production;
 * `npm run dev` allows any localhost port. Only a listed origin gets `Access-Control-*` headers
 * (credentials included); a preflight from any other origin is answered 204 without them, so the
 * browser refuses the request.
 */
export function crossOrigin() {
  return createMiddleware<{ Bindings: Bindings }>(async function crossOrigin(c, next) {
    const origin = c.req.header("Origin");
    if (origin && originAllowed(origin, c.env.CORS_ALLOWED_ORIGINS)) return allowListed(c, next);
    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method")) return c.body(null, 204);
    await next();
  });
}

export function originAllowed(origin: string, list: string | undefined): boolean {
  return !!list && allowList(list).some((allowed) => allowed(origin));
}

/** The var parsed once per isolate (it is the same string on every request), not per request. */
let parsed: { list: string; matchers: Array<(origin: string) => boolean> } | undefined;
function allowList(list: string) {
  if (parsed?.list !== list) {
    const matchers = list
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        if (!entry.endsWith(":*")) return (origin: string) => origin === entry;
        const host = entry.slice(0, -2);
        const anyPort = new RegExp(`^${escapeRegExp(host)}:\\d{1,5}$`);
        return (origin: string) => origin === host || anyPort.test(origin);
      });
    parsed = { list, matchers };
  }
  return parsed.matchers;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
