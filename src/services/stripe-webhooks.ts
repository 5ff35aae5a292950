import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "../db/client";
import { stripeEvents } from "../db/schema";
import { linkCustomerStatement, organizationForStripe, storeSubscriptionStatement, stripeId, subscriptionFields } from "./subscriptions";

export type WebhookOutcome = { duplicate: boolean; outcome: string; organizationId: string | null };

/**
 * Applies a verified Stripe event. Every state change comes from the event's own payload and is written
 * in one batch with the event id, so a replay (the id seen before) changes nothing, and a failure leaves
 * nothing half-done for Stripe's retry. Events for no known organization are recorded and ignored.
 */
export async function applyStripeEvent(db: Database, d1: D1Database, event: Stripe.Event): Promise<WebhookOutcome> {
  const seen = await db.select({ outcome: stripeEvents.outcome, organizationId: stripeEvents.organizationId }).from(stripeEvents).where(eq(stripeEvents.id, event.id)).get();
  if (seen) return { duplicate: true, outcome: seen.outcome, organizationId: seen.organizationId };

  const { organizationId, outcome, statements } = await effectOf(db, d1, event);
  const record = d1
    .prepare("INSERT INTO stripe_events (id, type, created, organization_id, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
    .bind(event.id, event.type, event.created, organizationId, outcome, Date.now());
  await d1.batch([...statements, record]);
  return { duplicate: false, outcome, organizationId };
}

type Effect = { organizationId: string | null; outcome: string; statements: D1PreparedStatement[] };

async function effectOf(db: Database, d1: D1Database, event: Stripe.Event): Promise<Effect> {
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      const customerId = stripeId(session.customer);
      const organizationId = await organizationForStripe(db, customerId, session.metadata?.organization_id ?? session.client_reference_id ?? undefined);
      if (!organizationId) return ignored("unknown organization");
      // The subscription's state arrives with its own customer.subscription.* events.
      return { organizationId, outcome: "applied", statements: customerId ? [linkCustomerStatement(d1, organizationId, customerId)] : [] };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
    case "customer.subscription.trial_will_end": {
      const subscription = event.data.object;
      const fields = subscriptionFields(subscription);
      const organizationId = await organizationForStripe(db, stripeId(subscription.customer), subscription.metadata?.organization_id);
      if (!organizationId) return ignored("unknown organization");
      if (!fields) return { organizationId, outcome: "ignored: not a Segmento price", statements: [] };
      const statements = [linkCustomerStatement(d1, organizationId, fields.stripeCustomerId), storeSubscriptionStatement(d1, organizationId, fields, event.created)];
      if (event.type === "customer.subscription.trial_will_end") {
        statements.push(d1.prepare("UPDATE subscriptions SET trial_will_end_at = ? WHERE id = ? AND organization_id = ?").bind(event.created * 1000, fields.id, organizationId));
      }
      return { organizationId, outcome: "applied", statements };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object;
      const subscriptionId = stripeId(invoice.parent?.subscription_details?.subscription);
      const organizationId = await organizationForStripe(db, stripeId(invoice.customer), invoice.parent?.subscription_details?.metadata?.organization_id);
      if (!organizationId) return ignored("unknown organization");
      if (!subscriptionId) return { organizationId, outcome: "ignored: not a subscription invoice", statements: [] };
      // Only the invoice's own news; the subscription's status (past_due, active) comes with its own events.
      const status = event.type === "invoice.paid" ? "paid" : "payment_failed";
      return {
        organizationId,
        outcome: "applied",
        statements: [
          d1
            .prepare(
              `UPDATE subscriptions SET latest_invoice_status = ?1, invoice_event_created = ?2
               WHERE id = ?3 AND organization_id = ?4 AND (invoice_event_created IS NULL OR invoice_event_created <= ?2)`,
            )
            .bind(status, event.created, subscriptionId, organizationId),
        ],
      };
    }
    default:
      return ignored(`ignored: ${event.type} is not handled`);
  }
}

const ignored = (outcome: string): Effect => ({ organizationId: null, outcome: outcome.startsWith("ignored") ? outcome : `ignored: ${outcome}`, statements: [] });
