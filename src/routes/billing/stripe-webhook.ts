import { createRoute } from "@hono/zod-openapi";
import { commonErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { verifiedWebhookEvent } from "../../billing/stripe";
import { applyStripeEvent } from "../../services/stripe-webhooks";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { WebhookReceipt } from "./schema";

const route = createRoute({
  method: "post",
  path: "/stripe",
  operationId: "receiveStripeWebhook",
  tags: ["Billing"],
  summary: "Stripe webhook endpoint",
  description:
    "Public, authenticated by the `Stripe-Signature` header over the raw body (5 minutes' tolerance). Each event id is stored: a replay answers 200 without effect. Handles checkout.session.completed, customer.subscription.created|updated|deleted|trial_will_end, invoice.paid and invoice.payment_failed; an event older than the stored state of its subscription changes nothing.",
  request: { body: { required: true, content: { "application/json": { schema: { type: "object" } } } } },
  responses: {
    200: jsonResponse(WebhookReceipt, "Received (also for a replay, or an event for no known organization)"),
    ...commonErrorResponses,
    400: errorResponse("Bad or stale signature (`invalid_signature`)"),
    503: errorResponse("STRIPE_WEBHOOK_SECRET is not configured (`billing_unavailable`)"),
  },
});

export function registerStripeWebhook(app: Router) {
  app.openapi(route, async (c) => {
    // The signature covers the exact bytes Stripe sent, so the body is read raw, never re-serialized.
    const event = await verifiedWebhookEvent(c.env, await c.req.text(), c.req.header("Stripe-Signature"));
    const result = await applyStripeEvent(database(c.env.DB), c.env.DB, event);
    return c.json({ received: true, duplicate: result.duplicate, outcome: result.outcome }, 200);
  });
}
