import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "../db/client";
import { billingAccounts, organizations, type SubscriptionStatus } from "../db/schema";
import { PAST_DUE_GRACE_MS, isLiveStatus } from "../billing/entitlement";
import { planOfLookupKey, type BillingInterval, type PlanId } from "../billing/plans";
import { callStripe, stripeClient, type StripeSecrets } from "../billing/stripe";
import { ApiError } from "../errors";
import { billingStateOf, type BillingState } from "./quotas";

const ms = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? null : seconds * 1000);
/** The id of a Stripe reference, expanded or not. */
export const stripeId = (ref: string | { id: string } | null | undefined) => (typeof ref === "string" ? ref : (ref?.id ?? null));

/** A Stripe subscription as stored: the plan from its price's lookup key; null when the price is not ours. */
export function subscriptionFields(subscription: Stripe.Subscription) {
  const item = subscription.items.data[0];
  const price = item ? planOfLookupKey(item.price.lookup_key) : null;
  if (!item || !price) return null;
  return {
    id: subscription.id,
    stripeCustomerId: stripeId(subscription.customer)!,
    plan: price.plan,
    interval: price.interval,
    status: subscription.status as SubscriptionStatus,
    currentPeriodStart: ms(item.current_period_start),
    currentPeriodEnd: ms(item.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    trialEnd: ms(subscription.trial_end),
    startedAt: ms(subscription.start_date ?? subscription.created)!,
  };
}

/**
 * The statement storing a subscription as of `asOf` (Stripe seconds: the event's `created`, or the time of
 * a sync). It changes nothing when the stored state is newer, or final (canceled, incomplete_expired), so
 * events delivered out of order end in the state of the latest. On a tie an `incomplete` state never
 * overwrites another, since Stripe creates a subscription incomplete and activates it in the same second.
 * A subscription entering past_due records when, which starts its 7-day grace.
 */
export function storeSubscriptionStatement(d1: D1Database, organizationId: string, fields: NonNullable<ReturnType<typeof subscriptionFields>>, asOf: number) {
  const now = Date.now();
  return d1
    .prepare(
      `INSERT INTO subscriptions (id, organization_id, stripe_customer_id, plan, interval, status, current_period_start, current_period_end,
         cancel_at_period_end, trial_end, past_due_since, started_at, event_created, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, CASE WHEN ?6 = 'past_due' THEN ?11 END, ?12, ?13, ?14)
       ON CONFLICT (id) DO UPDATE SET
         plan = excluded.plan, interval = excluded.interval, status = excluded.status,
         current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end,
         cancel_at_period_end = excluded.cancel_at_period_end, trial_end = excluded.trial_end,
         past_due_since = CASE WHEN excluded.status = 'past_due'
           THEN COALESCE(CASE WHEN subscriptions.status = 'past_due' THEN subscriptions.past_due_since END, excluded.past_due_since) END,
         event_created = excluded.event_created, updated_at = excluded.updated_at
       WHERE subscriptions.status NOT IN ('canceled', 'incomplete_expired')
         AND (excluded.event_created > subscriptions.event_created
           OR (excluded.event_created = subscriptions.event_created AND excluded.status <> 'incomplete'))`,
    )
    .bind(
      fields.id,
      organizationId,
      fields.stripeCustomerId,
      fields.plan,
      fields.interval,
      fields.status,
      fields.currentPeriodStart,
      fields.currentPeriodEnd,
      fields.cancelAtPeriodEnd ? 1 : 0,
      fields.trialEnd,
      asOf * 1000,
      fields.startedAt,
      asOf,
      now,
    );
}

/**
 * The organization a Stripe object belongs to: the one its customer is stored for, else the one its
 * `metadata.organization_id` names, if that organization exists. Null for anything else.
 */
export async function organizationForStripe(db: Database, customerId: string | null, metadataOrganizationId: string | undefined) {
  if (customerId) {
    const account = await db.select({ organizationId: billingAccounts.organizationId }).from(billingAccounts).where(eq(billingAccounts.stripeCustomerId, customerId)).get();
    if (account) return account.organizationId;
  }
  if (!metadataOrganizationId) return null;
  const org = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, metadataOrganizationId)).get();
  return org?.id ?? null;
}

/** Stores the organization's Stripe customer unless it already has one (the first one stays). */
export function linkCustomerStatement(d1: D1Database, organizationId: string, customerId: string) {
  return d1
    .prepare(
      `INSERT INTO billing_accounts (organization_id, stripe_customer_id, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (organization_id) DO UPDATE SET stripe_customer_id = excluded.stripe_customer_id, updated_at = excluded.updated_at
       WHERE billing_accounts.stripe_customer_id IS NULL`,
    )
    .bind(organizationId, customerId, Date.now());
}

export type SubscriptionView = {
  plan: PlanId;
  effective_plan: PlanId;
  source: "stripe" | "granted" | "free" | "none";
  interval: BillingInterval | null;
  status: SubscriptionStatus | "none";
  current_period_start: string | null;
  current_period_end: string | null;
  cancel_at_period_end: boolean;
  trial_end: string | null;
  grace_ends_at: string | null;
  latest_invoice_status: "paid" | "payment_failed" | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * What the organization is subscribed to: a live Stripe subscription; else a plan granted outside
 * Stripe; else the free plan once chosen (after the last subscription ended); else the last
 * subscription (canceled); else nothing chosen yet (`none`, on free quotas).
 */
export async function subscriptionOf(db: Database, organizationId: string): Promise<SubscriptionView> {
  const state = await billingStateOf(db, organizationId);
  const account = await db.select({ freePlanSince: billingAccounts.freePlanSince }).from(billingAccounts).where(eq(billingAccounts.organizationId, organizationId)).get();
  return viewOf(state, account?.freePlanSince ?? null);
}

function viewOf(state: BillingState, freePlanSince: Date | null): SubscriptionView {
  const s = state.subscription;
  const base = { effective_plan: state.plan, cancel_at_period_end: false, trial_end: null, grace_ends_at: null, latest_invoice_status: null };
  const window = { current_period_start: iso(state.window.start), current_period_end: iso(state.window.end) };
  if (s && isLiveStatus(s.status)) return stripeView(state, s);
  if (state.grantedPlan !== "free") return { ...base, ...window, plan: state.grantedPlan, source: "granted", interval: null, status: "active" };
  if (freePlanSince && (!s || freePlanSince >= s.updatedAt)) return { ...base, ...window, plan: "free", source: "free", interval: null, status: "active" };
  if (s) return stripeView(state, s);
  return { ...base, ...window, plan: "free", source: "none", interval: null, status: "none" };
}

function stripeView(state: BillingState, s: NonNullable<BillingState["subscription"]>): SubscriptionView {
  return {
    plan: s.plan,
    effective_plan: state.plan,
    source: "stripe",
    interval: s.interval,
    status: s.status,
    current_period_start: iso(s.currentPeriodStart),
    current_period_end: iso(s.currentPeriodEnd),
    cancel_at_period_end: s.cancelAtPeriodEnd,
    trial_end: iso(s.trialEnd),
    grace_ends_at: s.status === "past_due" && s.pastDueSince ? new Date(s.pastDueSince.getTime() + PAST_DUE_GRACE_MS).toISOString() : null,
    latest_invoice_status: s.latestInvoiceStatus,
  };
}

/** The subscription Stripe still bills, if it is a paid plan's. */
async function livePaidSubscription(db: Database, organizationId: string) {
  const state = await billingStateOf(db, organizationId);
  return state.subscription && isLiveStatus(state.subscription.status) ? state.subscription : null;
}

/** 409 `already_subscribed` while a paid subscription is live: plan changes go through the Billing Portal. */
export async function assertNoLiveSubscription(db: Database, organizationId: string) {
  const live = await livePaidSubscription(db, organizationId);
  if (live) throw new ApiError("already_subscribed", { plan: live.plan, status: live.status }, { plan: live.plan });
}

/**
 * Chooses the free plan without Stripe. 409 when the organization is on a paid plan that is not
 * canceled, or already chose free since its last subscription ended.
 */
export async function subscribeFree(db: Database, organizationId: string): Promise<SubscriptionView> {
  await assertNoLiveSubscription(db, organizationId);
  const current = await subscriptionOf(db, organizationId);
  if (current.source === "free" || current.source === "granted") throw new ApiError("already_subscribed", { plan: current.plan }, { plan: current.plan });
  const now = new Date();
  await db
    .insert(billingAccounts)
    .values({ organizationId, freePlanSince: now, updatedAt: now })
    .onConflictDoUpdate({ target: billingAccounts.organizationId, set: { freePlanSince: now, updatedAt: now } });
  return subscriptionOf(db, organizationId);
}

/** Cancels the live paid subscription at the end of its period; 409 when there is none, or it already ends. */
export async function cancelSubscription(env: StripeSecrets, db: Database, d1: D1Database, organizationId: string) {
  const live = await livePaidSubscription(db, organizationId);
  if (!live || live.cancelAtPeriodEnd) throw new ApiError("nothing_to_cancel");
  const stripe = await stripeClient(env);
  const updated = await callStripe("subscriptions.update", () => stripe.subscriptions.update(live.id, { cancel_at_period_end: true }));
  const fields = subscriptionFields(updated);
  if (fields) await storeSubscriptionStatement(d1, organizationId, fields, Math.floor(Date.now() / 1000)).run();
  return subscriptionOf(db, organizationId);
}

/**
 * Pulls the organization's subscriptions from Stripe and stores them as of now, so any webhook still in
 * flight (older) changes nothing after. Without a Stripe customer there is nothing to pull.
 */
export async function syncSubscriptions(env: StripeSecrets, db: Database, d1: D1Database, organizationId: string) {
  const stripe = await stripeClient(env);
  const account = await db.select({ customerId: billingAccounts.stripeCustomerId }).from(billingAccounts).where(eq(billingAccounts.organizationId, organizationId)).get();
  if (account?.customerId) {
    const customerId = account.customerId;
    const list = await callStripe("subscriptions.list", () => stripe.subscriptions.list({ customer: customerId, status: "all", limit: 20 }));
    const asOf = Math.floor(Date.now() / 1000);
    const statements = list.data.flatMap((s) => {
      const fields = subscriptionFields(s);
      return fields ? [storeSubscriptionStatement(d1, organizationId, fields, asOf)] : [];
    });
    if (statements.length > 0) await d1.batch(statements);
  }
  return subscriptionOf(db, organizationId);
}
