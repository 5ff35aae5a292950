import { createRoute, z } from "@hono/zod-openapi";
import type { Router } from "../router";
import { commonErrorResponses } from "../../errors";
import { jsonResponse } from "../schemas";
import { docsPage } from "./docs-page";
import { finishDocument } from "./document";

const Health = z.object({ status: z.literal("ok"), time: z.string() }).openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["System"],
  summary: "Liveness",
  responses: { 200: jsonResponse(Health, "The Worker is up"), 429: commonErrorResponses[429] },
});

/** /health, the OpenAPI 3.1 document generated from the routes' own zod schemas, and /docs. */
export function registerSystemRoutes(app: Router) {
  app.openapi(health, (c) => c.json({ status: "ok" as const, time: new Date().toISOString() }, 200));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerSession", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "Session token from `POST /api/auth/sign-in/email`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: "segmento_session",
    description: "HttpOnly cookie set at sign-in.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "sk_live_<64 hex>",
    description: "Project API key: `Authorization: Bearer sk_live_…`. Reaches only its own project.",
  });

  app.get("/openapi.json", (c) =>
    c.json(
      finishDocument(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: {
            title: "Segmento Edge API",
            version: "0.1.0",
            description:
              "Customer intelligence at the edge. Errors are always `{ error, code, detail? }`; messages follow `Accept-Language` (en, tr). " +
              "Every response carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `X-Request-Id`. " +
              "A path called with a method it does not serve answers 405 `method_not_allowed` with `Allow`; a body in another media type than the operation documents answers 415 `unsupported_media_type`.",
          },
          servers: [{ url: new URL(c.req.url).origin }],
        }),
      ),
    ),
  );

  app.get("/docs", (c) => {
    // The page's one script and one stylesheet carry this nonce; nothing else may run or load.
    const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    return c.html(docsPage("/openapi.json", nonce));
  });
}
