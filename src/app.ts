import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import type { AppEnv } from "./env";
import { ApiError, invalidField, type ErrorCode } from "./errors";
import { translate } from "./i18n";
import { secureHeaders } from "hono/secure-headers";
import { requestContext } from "./middleware/request-context";
import { crossOrigin } from "./middleware/cors";
import { rateLimit } from "./middleware/rate-limit";
import { requestBody } from "./middleware/body-limit";
import { createRouter } from "./routes/router";
import { authRoutes } from "./routes/auth";
import { organizationRoutes } from "./routes/organizations";
import { memberRoutes } from "./routes/members";
import { projectRoutes } from "./routes/projects";
import { apiKeyRoutes } from "./routes/api-keys";
import { contactRoutes } from "./routes/contact";
import { ingestRoutes } from "./routes/ingest";
import { fileRoutes } from "./routes/files";
import { jobRoutes } from "./routes/jobs";
import { segmentRoutes } from "./routes/segments";
import { customerRoutes } from "./routes/customers";
import { overviewRoutes } from "./routes/overview";
import { segmentationRoutes } from "./routes/segmentation";
import { copilotRoutes } from "./routes/copilot";
import { analyticsRoutes, organizationAnalyticsRoutes } from "./routes/analytics";
import { crmRoutes } from "./routes/crm";
import { billingRoutes, planRoutes, webhookRoutes } from "./routes/billing";
import { connectorRoutes } from "./routes/connectors";
import { automationRoutes } from "./routes/automations";
import { registerSystemRoutes } from "./routes/system";
import { methodNotAllowed } from "hono/method-not-allowed";

export function createApp() {
  const app = createRouter();

  app.use(requestContext());
  // A path served for other methods answers 405 with Allow (HEAD wherever GET is), in the one error body.
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        c.header("Allow", [...methods].sort().join(", "));
        return errorResponse(c, new ApiError("method_not_allowed", undefined, { method: c.req.method, path: c.req.path }));
      },
    }),
  );
  // A preflight is answered before the rate limit: it carries no credential and does nothing.
  app.use(crossOrigin());
  app.use(secureHeaders({ strictTransportSecurity: "max-age=31536000; includeSubDomains" }));
  app.use(rateLimit());
  app.use(requestBody());

  app.route("/api/auth", authRoutes());
  app.route("/api/organizations", organizationRoutes());
  app.route("/api/organizations", memberRoutes());
  app.route("/api", projectRoutes());
  app.route("/api/projects", apiKeyRoutes());
  app.route("/api/contact", contactRoutes());
  app.route("/api/v1", ingestRoutes());
  app.route("/api/engine", fileRoutes());
  app.route("/api/engine", jobRoutes());
  app.route("/api/engine", segmentRoutes());
  app.route("/api/engine", customerRoutes());
  app.route("/api/engine", overviewRoutes());
  app.route("/api/engine", segmentationRoutes());
  app.route("/api/engine", copilotRoutes());
  app.route("/api/analytics", analyticsRoutes());
  app.route("/api/organizations", organizationAnalyticsRoutes());
  app.route("/api/crm/analytics", crmRoutes());
  app.route("/api/organizations", billingRoutes());
  app.route("/api/plans", planRoutes());
  app.route("/api/webhooks", webhookRoutes());
  app.route("/api", connectorRoutes());
  app.route("/api", automationRoutes());
  registerSystemRoutes(app);

  app.notFound((c) => errorResponse(c, new ApiError("route_not_found", undefined, { method: c.req.method, path: c.req.path })));

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof HTTPException) {
      // Hono's validators throw these when a body cannot be parsed at all, or comes in the wrong media type.
      if (error.status === 415) return errorResponse(c, new ApiError("unsupported_media_type", undefined, { expected: "the documented content type" }));
      if (error.status === 400) {
        return errorResponse(c, /json/i.test(error.message) ? new ApiError("invalid_json") : invalidField("", "invalid_body", error.message));
      }
    }
    console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), message: String(error), stack: (error as Error)?.stack }));
    return errorResponse(c, new ApiError("internal_error"));
  });

  return app;
}

/** The one error body: `{ error, code, detail? }`, its message in the caller's language. */
export function errorResponse(c: Context<AppEnv>, error: ApiError) {
  const body: { error: string; code: ErrorCode; detail?: unknown } = {
    error: translate(c.get("locale") ?? "en", error.code, error.params),
    code: error.code,
  };
  if (error.detail !== undefined) body.detail = error.detail;
  if (error.status === 401) c.header("WWW-Authenticate", wwwAuthenticate(error.code));
  return c.json(body, error.status);
}

/**
 * RFC 6750's challenge on every 401: the scheme and realm, and `error="invalid_token"` when a
 * credential was sent but is bad or expired (none for a missing one, or a failed sign-in).
 */
function wwwAuthenticate(code: ErrorCode): string {
  const challenge = `Bearer realm="segmento"`;
  return code === "session_expired" || code === "invalid_api_key" || code === "api_key_expired" ? `${challenge}, error="invalid_token"` : challenge;
}
