import { createRoute } from "@hono/zod-openapi";
import { commonErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { config } from "../../env";
import { clientIp, routeRateLimit } from "../../middleware/rate-limit";
import { saveContactMessage } from "../../services/contact";
import { createRouter } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { ContactBody, ContactReceipt } from "./schema";

const route = createRoute({
  method: "post",
  path: "/",
  operationId: "sendContactMessage",
  tags: ["Support"],
  summary: "Send a message to support",
  description: "Public. Limited per client IP (5 an hour by default) on top of the global rate limit.",
  middleware: [routeRateLimit("contact", (env) => config(env).contactRateLimit)] as const,
  request: { body: jsonBody(ContactBody) },
  responses: { 201: jsonResponse(ContactReceipt, "Received"), ...commonErrorResponses },
});

export function contactRoutes() {
  const app = createRouter();
  app.openapi(route, async (c) => {
    const record = await saveContactMessage(database(c.env.DB), c.req.valid("json"), clientIp(c));
    return c.json({ id: record.id, receivedAt: record.createdAt.toISOString() }, 201);
  });
  return app;
}
