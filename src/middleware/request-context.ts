import { createMiddleware } from "hono/factory";
import type { Bindings } from "../env";
import { negotiateLocale, type Locale } from "../i18n";

export type RequestContextVariables = {
  requestId: string;
  locale: Locale;
};

/**
 * First middleware of every request: an id to correlate logs (echoed as `X-Request-Id`, taken from
 * the caller when it is a sane value) and the language error messages are written in.
 */
export function requestContext() {
  return createMiddleware<{ Bindings: Bindings; Variables: RequestContextVariables }>(async function requestContext(c, next) {
    const incoming = c.req.header("X-Request-Id");
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("locale", negotiateLocale(c.req.header("Accept-Language")));
    await next();
    c.header("X-Request-Id", requestId);
    c.header("Content-Language", c.get("locale"));
  });
}
