import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json, signUp, tenant } from "../helpers";
import { callWithStripe, deliver, nowSeconds, signedWebhook, stripeEvent, subscription } from "./stripe-fake";

const subscriptionOf = async (token: string, orgId: string) => json(await call("GET", `/api/organizations/${orgId}/subscription`, { token }));
const storedEvents = async (id: string) => (await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events WHERE id = ?").bind(id).first<{ n: number }>())!.n;
const ids = () => {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 14);
  return { sub: `sub_${suffix}`, customer: `cus_${suffix}` };
};

describe("POST /api/webhooks/stripe", () => {
  it("applies a signed subscription event: the organization gets the plan from the price's lookup key", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const res = await deliver(stripeEvent("customer.subscription.created", subscription({ id: sub, customer, organizationId: t.organization.id, plan: "pro", interval: "annual", status: "trialing", trialEnd: nowSeconds() + 14 * 86400 })));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: true, duplicate: false, outcome: "applied" });
    const state = await subscriptionOf(t.owner.token, t.organization.id);
    expect(state).toMatchObject({ plan: "pro", effective_plan: "pro", source: "stripe", interval: "annual", status: "trialing", cancel_at_period_end: false });
    expect(Date.parse(state.trial_end)).toBeGreaterThan(Date.now());
    expect((await json(await call("GET", `/api/organizations/${t.organization.id}`, { token: t.owner.token }))).plan).toBe("pro");
    // The customer is now the organization's, so later objects without metadata still find it.
    const account = await env.DB.prepare("SELECT stripe_customer_id FROM billing_accounts WHERE organization_id = ?").bind(t.organization.id).first();
    expect(account).toEqual({ stripe_customer_id: customer });
  });

  it("refuses a bad signature, a signature by another secret and a stale timestamp with 400, storing nothing", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const event = stripeEvent("customer.subscription.created", subscription({ id: sub, customer, organizationId: t.organization.id }));
    const { payload, header } = await signedWebhook(event);
    const tampered = payload.replace('"pro"', '"starter"').replace("segmento_pro_monthly", "segmento_starter_monthly");
    await expectError(await callWithStripe("POST", "/api/webhooks/stripe", { rawBody: tampered, headers: { "Stripe-Signature": header } }), 400, "invalid_signature");
    await expectError(await deliver(event, { secret: "whsec_someone_else" }), 400, "invalid_signature");
    await expectError(await deliver(event, { timestamp: nowSeconds() - 301 }), 400, "invalid_signature");
    await expectError(await callWithStripe("POST", "/api/webhooks/stripe", { rawBody: payload }), 400, "invalid_signature");
    expect(await storedEvents(event.id)).toBe(0);
    expect((await subscriptionOf(t.owner.token, t.organization.id)).status).toBe("none");
    // Within the tolerance it is accepted.
    expect((await deliver(event, { timestamp: nowSeconds() - 280 })).status).toBe(200);
  });

  it("answers a replay 200 without effect, even after newer state", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const created = nowSeconds() - 100;
    const active = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer, organizationId: t.organization.id, plan: "starter" }), created);
    expect((await deliver(active)).status).toBe(200);
    const canceled = stripeEvent("customer.subscription.deleted", subscription({ id: sub, customer, organizationId: t.organization.id, plan: "starter", status: "canceled" }), created + 10);
    expect((await deliver(canceled)).status).toBe(200);
    const replay = await deliver(active);
    expect(await json(replay)).toEqual({ received: true, duplicate: true, outcome: "applied" });
    expect(await storedEvents(active.id)).toBe(1);
    expect(await subscriptionOf(t.owner.token, t.organization.id)).toMatchObject({ status: "canceled", effective_plan: "free" });
  });

  it("ends in the latest state whatever the delivery order (by the event's created)", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const base = nowSeconds() - 1000;
    const meta = { id: sub, customer, organizationId: t.organization.id, plan: "pro" } as const;
    const events = [
      stripeEvent("customer.subscription.created", subscription({ ...meta, status: "incomplete" }), base),
      stripeEvent("customer.subscription.updated", subscription({ ...meta, status: "active" }), base),
      stripeEvent("customer.subscription.updated", subscription({ ...meta, status: "active", cancelAtPeriodEnd: true }), base + 50),
    ];
    // Newest first, then the older ones: the older change nothing (and the incomplete of the same second loses).
    for (const event of [events[2]!, events[1]!, events[0]!]) expect((await deliver(event)).status).toBe(200);
    expect(await subscriptionOf(t.owner.token, t.organization.id)).toMatchObject({ plan: "pro", status: "active", cancel_at_period_end: true });

    // A deletion, then an update created before it: still canceled, on free quotas.
    await deliver(stripeEvent("customer.subscription.deleted", subscription({ ...meta, status: "canceled" }), base + 100));
    await deliver(stripeEvent("customer.subscription.updated", subscription({ ...meta, status: "active" }), base + 90));
    expect(await subscriptionOf(t.owner.token, t.organization.id)).toMatchObject({ status: "canceled", effective_plan: "free" });
  });

  it("records and ignores events for no known organization", async () => {
    const { sub, customer } = ids();
    const event = stripeEvent("customer.subscription.created", subscription({ id: sub, customer, organizationId: "org_01JUNKNOWN00000000000000000" }));
    const res = await deliver(event);
    expect(await json(res)).toEqual({ received: true, duplicate: false, outcome: "ignored: unknown organization" });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscriptions WHERE id = ?").bind(sub).first()).toEqual({ n: 0 });
    expect(await storedEvents(event.id)).toBe(1);
    // An event of a type not handled is acknowledged too (Stripe would otherwise retry it for days).
    expect(await json(await deliver(stripeEvent("customer.created", { id: customer, object: "customer" })))).toMatchObject({ outcome: "ignored: customer.created is not handled" });
  });

  it("links the customer on checkout.session.completed, so subscription events without metadata find the organization", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const session = {
      id: `cs_test_${sub}`,
      object: "checkout.session",
      client_reference_id: t.organization.id,
      customer,
      metadata: { organization_id: t.organization.id },
      mode: "subscription",
      payment_status: "paid",
      status: "complete",
      subscription: sub,
    };
    expect(await json(await deliver(stripeEvent("checkout.session.completed", session)))).toMatchObject({ outcome: "applied" });
    await deliver(stripeEvent("customer.subscription.created", subscription({ id: sub, customer, plan: "starter" })));
    expect(await subscriptionOf(t.owner.token, t.organization.id)).toMatchObject({ plan: "starter", status: "active" });
  });

  it("keeps paid quotas 7 days into past_due, then free ones; invoice events in any order leave the latest", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const meta = { id: sub, customer, organizationId: t.organization.id, plan: "pro" } as const;
    const base = nowSeconds() - 500;
    await deliver(stripeEvent("customer.subscription.updated", subscription({ ...meta, status: "past_due" }), base));
    const invoice = (status: string) => ({
      id: `in_${sub}`,
      object: "invoice",
      customer,
      status,
      parent: { type: "subscription_details", quote_details: null, subscription_details: { metadata: { organization_id: t.organization.id }, subscription: sub } },
    });
    await deliver(stripeEvent("invoice.paid", invoice("paid"), base + 20));
    await deliver(stripeEvent("invoice.payment_failed", invoice("open"), base + 10));
    const state = await subscriptionOf(t.owner.token, t.organization.id);
    expect(state).toMatchObject({ status: "past_due", effective_plan: "pro", latest_invoice_status: "paid" });
    expect(Date.parse(state.grace_ends_at)).toBe((base + 7 * 86400) * 1000);
    // A later past_due update keeps the grace's start.
    await deliver(stripeEvent("customer.subscription.updated", subscription({ ...meta, status: "past_due" }), base + 30));
    expect((await subscriptionOf(t.owner.token, t.organization.id)).grace_ends_at).toBe(state.grace_ends_at);

    await env.DB.prepare("UPDATE subscriptions SET past_due_since = ? WHERE id = ?").bind(Date.now() - 7 * 86400_000 - 1000, sub).run();
    expect(await subscriptionOf(t.owner.token, t.organization.id)).toMatchObject({ status: "past_due", effective_plan: "free" });
  });

  it("records trial_will_end, and an incomplete subscription neither grants the plan nor holds the organization", async () => {
    const t = await tenant();
    const { sub, customer } = ids();
    const meta = { id: sub, customer, organizationId: t.organization.id, plan: "pro" } as const;
    const trialEnd = nowSeconds() + 3 * 86400;
    const event = stripeEvent("customer.subscription.trial_will_end", subscription({ ...meta, status: "trialing", trialEnd }));
    expect((await deliver(event)).status).toBe(200);
    const row = await env.DB.prepare("SELECT status, trial_end, trial_will_end_at FROM subscriptions WHERE id = ?").bind(sub).first();
    expect(row).toEqual({ status: "trialing", trial_end: trialEnd * 1000, trial_will_end_at: event.created * 1000 });

    const other = await tenant();
    const stuck = ids();
    await deliver(stripeEvent("customer.subscription.created", subscription({ id: stuck.sub, customer: stuck.customer, organizationId: other.organization.id, status: "incomplete" })));
    expect(await subscriptionOf(other.owner.token, other.organization.id)).toMatchObject({ plan: "pro", status: "incomplete", effective_plan: "free" });
    expect((await call("POST", `/api/organizations/${other.organization.id}/subscribe-free`, { token: other.owner.token })).status).toBe(200);
  });

  it("answers 503 billing_unavailable without STRIPE_WEBHOOK_SECRET", async () => {
    const body = await expectError(await call("POST", "/api/webhooks/stripe", { body: { id: "evt_1" }, headers: { "Stripe-Signature": "t=1,v1=x" } }), 503, "billing_unavailable");
    expect(body.error).toContain("STRIPE_WEBHOOK_SECRET");
  });
});

describe("plan quotas follow the subscription", () => {
  it("lifts team seats on a paid plan and drops them after cancellation, keeping the members", async () => {
    const t = await tenant();
    const [a, b] = [await signUp(), await signUp()];
    const add = (email: string) => call("POST", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token, body: { email, role: "member" } });
    const free = await expectError(await add(a.email), 429, "quota_exceeded");
    expect(free.detail).toEqual({ quota: "teamSeats", plan: "free", used: 1, limit: 1, adding: 1, upgrade_to: "starter" });

    const { sub, customer } = ids();
    const meta = { id: sub, customer, organizationId: t.organization.id, plan: "starter" } as const;
    await deliver(stripeEvent("customer.subscription.created", subscription(meta), nowSeconds() - 10));
    expect((await add(a.email)).status).toBe(201);

    await deliver(stripeEvent("customer.subscription.deleted", subscription({ ...meta, status: "canceled" })));
    const over = await expectError(await add(b.email), 429, "quota_exceeded");
    expect(over.detail).toMatchObject({ quota: "teamSeats", plan: "free", used: 2, limit: 1 });
    // Nothing was deleted: the member added on the paid plan is still there, and reads work.
    const members = await json(await call("GET", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token }));
    expect(members.members.map((m: { email: string }) => m.email)).toContain(a.email);
  });
});
