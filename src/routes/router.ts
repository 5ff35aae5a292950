import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { fieldErrors } from "../i18n";
import { authenticate } from "../middleware/auth";

/**
 * A sub-app whose validation failures take the same path as every other error: a 400
 * `validation_error` whose detail lists the fields, in the caller's language. Every route's query is
 * strict: a parameter the route does not document is a 400 `unrecognized_keys` (a typo such as
 * `?projectid=` must not silently widen or ignore a filter), whether or not the route declares a query.
 */
export function createRouter() {
  const app = new OpenAPIHono<AppEnv>({
    // `/api/analytics/overview/` (as the SegOps analytics API documents it) and `/api/analytics/overview` are one route.
    strict: false,
    defaultHook: (result, c) => {
      if (!result.success) throw new ApiError("validation_error", fieldErrors(c.get("locale"), result.error.issues, (result as { data?: unknown }).data));
    },
  });
  const register = app.openapi.bind(app);
  app.openapi = ((route, ...rest) => register(withStrictQuery(route), ...rest)) as typeof app.openapi;
  return app;
}

const NoQuery = z.object({}).strict();

/** The route with its query schema made strict, or an empty strict one when it declares none. */
function withStrictQuery<R extends { request?: { query?: unknown } }>(route: R): R {
  const query = route.request?.query;
  if (query !== undefined && !(query instanceof z.ZodObject)) throw new Error("a route's query schema must be a z.object");
  return { ...route, request: { ...route.request, query: query ? query.strict() : NoQuery } };
}

export type Router = ReturnType<typeof createRouter>;

/** Security requirements as they appear in route definitions. */
type SecurityRequirement = Record<string, string[]>;
export const security: Record<"session" | "sessionOrApiKey" | "apiKey", SecurityRequirement[]> = {
  session: [{ bearerSession: [] }, { sessionCookie: [] }],
  sessionOrApiKey: [{ bearerSession: [] }, { sessionCookie: [] }, { apiKey: [] }],
  apiKey: [{ apiKey: [] }],
};

/** A route's authentication: the OpenAPI security requirement and the middleware that enforces it. */
export const auth = {
  session: () => ({ security: security.session, middleware: [authenticate()] }),
  sessionOrApiKey: () => ({ security: security.sessionOrApiKey, middleware: [authenticate({ session: true, apiKey: true })] }),
  apiKey: () => ({ security: security.apiKey, middleware: [authenticate({ apiKey: true })] }),
};
