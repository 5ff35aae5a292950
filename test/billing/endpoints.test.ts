import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { call, expectError, json, signUp, tenant } from "../helpers";
import { billingOperations } from "./operations";
import { callWithStripe, customer, deliver, interceptStripe, nowSeconds, price, stripeEvent, subscription } from "./stripe-fake";

let intercepted: ReturnType<typeof interceptStripe> | undefined;
afterEach(() => {
  intercepted?.restore();
  intercepted = undefined;
});

const path = (orgId: string, op: string) => `/api/organizations/${orgId}/${op}`;

/** A tenant with a second user who is a plain member (on a plan with room for them). */
async function team() {
  const t = await tenant();
  await env.DB.prepare("UPDATE organizations SET plan = 'starter' WHERE id = ?").bind(t.organization.id).run();
  const member = await signUp();
  expect((await call("POST", path(t.organization.id, "members"), { token: t.owner.token, body: { email: member.email, role: "member" } })).status).toBe(201);
  await env.DB.prepare("UPDATE organizations SET plan = 'free' WHERE id = ?").bind(t.organization.id).run();
  return { ...t, member };
}

async function withCustomer(orgId: string) {
  const id = `cus_${crypto.randomUUID().replaceAll("-", "").slice(0, 14)}`;
  await env.DB.prepare("INSERT INTO billing_accounts (organization_id, stripe_customer_id, updated_at) VALUES (?, ?, ?)").bind(orgId, id, Date.now()).run();
  return id;
}

describe("GET /api/plans", () => {
  it("is public: every plan with prices, quotas (-1 unlimited) and whether it is self-serve", async () => {
    const body = await json(await call("GET", "/api/plans"));
    expect(body.plans.map((p: { id: string }) => p.id)).toEqual(["free", "starter", "pro", "enterprise"]);
    expect(body.plans[1]).toEqual({
      id: "starter",
      name: "Starter",
      self_serve: true,
      prices: { monthly: 2900, annual: 2400 },
      quotas: { rows: 10_000_000, profiles: 50_000, modelRuns: 50, genaiOps: 50, automations: 10, storageGb: 5, teamSeats: 5 },
    });
    expect(body.plans[3]).toMatchObject({ self_serve: false, prices: { monthly: null, annual: null }, quotas: { rows: -1, storageGb: 500, teamSeats: -1 } });
  });
});

describe("roles", () => {
  it("every billing endpoint is for owners and admins: a member gets 403", async () => {
    const t = await team();
    for (const [method, op, body] of billingOperations) {
      await expectError(await callWithStripe(method, path(t.organization.id, op), { token: t.member.token, body }), 403, "insufficient_role");
    }
  });
});

describe("without STRIPE_SECRET_KEY (the local default)", () => {
  it("answers 503 billing_unavailable naming the secret where Stripe is needed; the rest works", async () => {
    const t = await tenant();
    for (const [method, op, body] of [
      ["POST", "checkout", { plan: "pro", interval: "monthly" }],
      ["POST", "sync-subscription"],
      ["POST", "billing-portal"],
      ["PUT", "billing", { name: "Acme GmbH" }],
      ["GET", "invoices"],
      ["GET", "payment-methods"],
    ] as const) {
      const error = await expectError(await call(method, path(t.organization.id, op), { token: t.owner.token, body }), 503, "billing_unavailable");
      expect(error.error).toContain("STRIPE_SECRET_KEY");
    }
    expect((await call("GET", path(t.organization.id, "subscription"), { token: t.owner.token })).status).toBe(200);
    expect((await call("GET", path(t.organization.id, "usage"), { token: t.owner.token })).status).toBe(200);
    expect((await call("GET", path(t.organization.id, "billing"), { token: t.owner.token })).status).toBe(200);
    expect((await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token })).status).toBe(200);
  });

  it("keeps an organization granted Pro (the demo) on Pro", async () => {
    const t = await tenant();
    await env.DB.prepare("UPDATE organizations SET plan = 'pro' WHERE id = ?").bind(t.organization.id).run();
    expect(await json(await call("GET", path(t.organization.id, "subscription"), { token: t.owner.token }))).toMatchObject({ plan: "pro", effective_plan: "pro", source: "granted", status: "active" });
    await expectError(await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token }), 409, "already_subscribed");
  });
});

describe("subscribe-free", () => {
  it("chooses free once; 409 while free or on a live paid plan; allowed again after a paid plan is canceled", async () => {
    const t = await tenant();
    expect(await json(await call("GET", path(t.organization.id, "subscription"), { token: t.owner.token }))).toMatchObject({ plan: "free", status: "none", source: "none" });
    const chosen = await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token });
    expect(await json(chosen)).toMatchObject({ plan: "free", effective_plan: "free", status: "active", source: "free", interval: null });
    await expectError(await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token }), 409, "already_subscribed");

    const sub = `sub_${crypto.randomUUID().slice(0, 8)}`;
    const meta = { id: sub, customer: `cus_${sub}`, organizationId: t.organization.id, plan: "starter" } as const;
    await deliver(stripeEvent("customer.subscription.created", subscription(meta), nowSeconds() - 5));
    const paid = await expectError(await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token }), 409, "already_subscribed");
    expect(paid.detail).toMatchObject({ plan: "starter", status: "active" });
    await deliver(stripeEvent("customer.subscription.deleted", subscription({ ...meta, status: "canceled" })));
    expect(await json(await call("GET", path(t.organization.id, "subscription"), { token: t.owner.token }))).toMatchObject({ plan: "starter", status: "canceled", effective_plan: "free" });
    expect(await json(await call("POST", path(t.organization.id, "subscribe-free"), { token: t.owner.token }))).toMatchObject({ plan: "free", status: "active", source: "free" });
  });
});

describe("POST …/checkout", () => {
  it("creates one customer per organization (idempotency key from its id) and a subscription-mode session priced by lookup key, trial from the price", async () => {
    const t = await tenant();
    let customers = 0;
    intercepted = interceptStripe({
      "GET /v1/prices": ({ form }) => ({ body: { object: "list", data: form.get("lookup_keys[0]") === "segmento_pro_annual" ? [price("pro", "annual", 14)] : [], has_more: false, url: "/v1/prices" } }),
      "POST /v1/customers": () => ({ body: customer(`cus_new${++customers}`, t.organization.id) }),
      "POST /v1/checkout/sessions": ({ form }) => ({
        body: { id: `cs_test_${form.get("customer")}`, object: "checkout.session", url: "https://checkout.stripe.com/c/pay/cs_test_a1b2", mode: "subscription", customer: form.get("customer") },
      }),
    });
    const results = await Promise.all(
      [0, 1].map(() => callWithStripe("POST", path(t.organization.id, "checkout"), { token: t.owner.token, body: { plan: "pro", interval: "annual" } })),
    );
    for (const res of results) {
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ url: "https://checkout.stripe.com/c/pay/cs_test_a1b2", session_id: "cs_test_cus_new1", trial_period_days: 14 });
    }
    expect(customers).toBe(1);
    const creates = intercepted.calls.filter((c) => c.path === "/v1/customers");
    expect(creates.map((c) => c.idempotencyKey)).toEqual([`segmento-customer-${t.organization.id}`, `segmento-customer-${t.organization.id}`]);
    expect(creates[0]!.form.get("metadata[organization_id]")).toBe(t.organization.id);
    const session = intercepted.calls.find((c) => c.path === "/v1/checkout/sessions")!.form;
    expect(Object.fromEntries(session)).toMatchObject({
      mode: "subscription",
      customer: "cus_new1",
      client_reference_id: t.organization.id,
      "line_items[0][price]": "price_pro_annual",
      "subscription_data[metadata][organization_id]": t.organization.id,
      "subscription_data[trial_period_days]": "14",
    });
    expect(await env.DB.prepare("SELECT stripe_customer_id FROM billing_accounts WHERE organization_id = ?").bind(t.organization.id).first()).toEqual({ stripe_customer_id: "cus_new1" });
  });

  it("answers 409 contact_sales for Enterprise, 400 for bad input, 503 when the price is not configured", async () => {
    const t = await tenant();
    const enterprise = await expectError(await call("POST", path(t.organization.id, "checkout"), { token: t.owner.token, body: { plan: "enterprise", interval: "monthly" } }), 409, "contact_sales");
    expect(enterprise.detail).toEqual({ plan: "enterprise", contact: "POST /api/contact" });
    for (const body of [{ plan: "free", interval: "monthly" }, { plan: "pro", interval: "weekly" }, { plan: "pro" }, { plan: "pro", interval: "monthly", trial_days: 30 }]) {
      await expectError(await callWithStripe("POST", path(t.organization.id, "checkout"), { token: t.owner.token, body }), 400, "validation_error");
    }
    intercepted = interceptStripe({ "GET /v1/prices": () => ({ body: { object: "list", data: [], has_more: false, url: "/v1/prices" } }) });
    const missing = await expectError(await callWithStripe("POST", path(t.organization.id, "checkout"), { token: t.owner.token, body: { plan: "starter", interval: "monthly" } }), 503, "billing_unavailable");
    expect(missing.detail).toEqual({ lookup_key: "segmento_starter_monthly" });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM billing_accounts WHERE organization_id = ?").bind(t.organization.id).first()).toEqual({ n: 0 });
  });

  it("answers 503 service_unavailable when Stripe fails, with nothing of Stripe's in the message", async () => {
    const t = await tenant();
    intercepted = interceptStripe({ "GET /v1/prices": () => ({ status: 401, body: { error: { type: "invalid_request_error", message: "Invalid API Key provided: sk_test_***" } } }) });
    const error = await expectError(await callWithStripe("POST", path(t.organization.id, "checkout"), { token: t.owner.token, body: { plan: "pro", interval: "monthly" } }), 503, "service_unavailable");
    expect(JSON.stringify(error)).not.toContain("sk_test");
  });
});

describe("billing details", () => {
  it("PUT syncs name, email, address and tax id to the Stripe customer, then GET shows them", async () => {
    const t = await tenant();
    const customerId = await withCustomer(t.organization.id);
    intercepted = interceptStripe({
      [`POST /v1/customers/${customerId}`]: () => ({ body: customer(customerId, t.organization.id) }),
      [`GET /v1/customers/${customerId}/tax_ids`]: () => ({ body: { object: "list", data: [{ id: "txi_old", object: "tax_id", type: "eu_vat", value: "DE000000000" }], has_more: false } }),
      [`DELETE /v1/customers/${customerId}/tax_ids/txi_old`]: () => ({ body: { id: "txi_old", object: "tax_id", deleted: true } }),
      [`POST /v1/customers/${customerId}/tax_ids`]: ({ form }) => ({ body: { id: "txi_new", object: "tax_id", type: form.get("type"), value: form.get("value") } }),
    });
    const details = { name: "Acme GmbH", email: "billing@acme.example", tax_id: { type: "eu_vat", value: "DE123456789" }, address: { line1: "Hauptstr. 1", city: "Berlin", postal_code: "10115", country: "DE" } };
    const res = await callWithStripe("PUT", path(t.organization.id, "billing"), { token: t.owner.token, body: details });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(details);
    const update = intercepted.calls.find((c) => c.method === "POST" && c.path === `/v1/customers/${customerId}`)!.form;
    expect(Object.fromEntries(update)).toMatchObject({ name: "Acme GmbH", email: "billing@acme.example", "address[line1]": "Hauptstr. 1", "address[country]": "DE" });
    expect(intercepted.calls.map((c) => `${c.method} ${c.path}`)).toContain(`DELETE /v1/customers/${customerId}/tax_ids/txi_old`);
    expect(await json(await call("GET", path(t.organization.id, "billing"), { token: t.owner.token }))).toEqual(details);
  });

  it("400 for bad input, and for a tax id Stripe refuses, changing nothing", async () => {
    const t = await tenant();
    const customerId = await withCustomer(t.organization.id);
    for (const body of [{ name: "x", address: { country: "Germany" } }, { name: "x", email: "nope" }, { name: "x", tax_id: { type: "vat", value: "1" } }, { name: "" }, { name: "x", extra: 1 }]) {
      await expectError(await callWithStripe("PUT", path(t.organization.id, "billing"), { token: t.owner.token, body }), 400, "validation_error");
    }
    intercepted = interceptStripe({
      [`POST /v1/customers/${customerId}`]: () => ({ body: customer(customerId, t.organization.id) }),
      [`GET /v1/customers/${customerId}/tax_ids`]: () => ({ body: { object: "list", data: [], has_more: false } }),
      [`POST /v1/customers/${customerId}/tax_ids`]: () => ({ status: 400, body: { error: { type: "invalid_request_error", code: "tax_id_invalid", message: "Invalid value for eu_vat." } } }),
    });
    const refused = await expectError(await callWithStripe("PUT", path(t.organization.id, "billing"), { token: t.owner.token, body: { name: "Acme", tax_id: { type: "eu_vat", value: "XX" } } }), 400, "validation_error");
    expect(refused.detail).toEqual([{ path: "tax_id", code: "tax_id_invalid", message: "Stripe does not accept this tax id for this type" }]);
    // Nothing reached the customer either.
    expect(intercepted.calls.filter((c) => c.method === "POST" && c.path === `/v1/customers/${customerId}`)).toEqual([]);
    expect(await json(await call("GET", path(t.organization.id, "billing"), { token: t.owner.token }))).toEqual({ name: null, email: null, tax_id: null, address: null });
  });
});

describe("invoices, payment methods, portal", () => {
  const invoice = (n: number) => ({
    id: `in_${n}`,
    object: "invoice",
    number: `SEG-000${n}`,
    status: "paid",
    amount_due: 9900,
    amount_paid: 9900,
    total: 9900,
    currency: "usd",
    created: 1767225600 + n * 86400 * 30,
    period_start: 1767225600,
    period_end: 1769904000,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_1/test_${n}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_1/test_${n}/pdf`,
  });

  it("pages invoices newest first with a cursor; 400 for a bad page", async () => {
    const t = await tenant();
    const customerId = await withCustomer(t.organization.id);
    intercepted = interceptStripe({
      "GET /v1/invoices": ({ form }) => {
        expect(form.get("customer")).toBe(customerId);
        const after = form.get("starting_after");
        const all = [invoice(3), invoice(2), invoice(1)];
        const from = after ? all.findIndex((i) => i.id === after) + 1 : 0;
        const limit = Number(form.get("limit"));
        return { body: { object: "list", data: all.slice(from, from + limit), has_more: from + limit < all.length, url: "/v1/invoices" } };
      },
    });
    const first = await json(await callWithStripe("GET", `${path(t.organization.id, "invoices")}?limit=2`, { token: t.owner.token }));
    expect(first.data.map((i: { number: string }) => i.number)).toEqual(["SEG-0003", "SEG-0002"]);
    expect(first).toMatchObject({ has_more: true, next_cursor: "in_2" });
    expect(first.data[0]).toEqual({
      id: "in_3",
      number: "SEG-0003",
      status: "paid",
      amount_due: 9900,
      amount_paid: 9900,
      total: 9900,
      currency: "usd",
      created: new Date((1767225600 + 3 * 86400 * 30) * 1000).toISOString(),
      period_start: "2026-01-01T00:00:00.000Z",
      period_end: "2026-02-01T00:00:00.000Z",
      hosted_invoice_url: "https://invoice.stripe.com/i/acct_1/test_3",
      invoice_pdf: "https://pay.stripe.com/invoice/acct_1/test_3/pdf",
    });
    const second = await json(await callWithStripe("GET", `${path(t.organization.id, "invoices")}?limit=2&starting_after=${first.next_cursor}`, { token: t.owner.token }));
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.data.map((i: { id: string }) => i.id)).toEqual(["in_1"]);
    for (const query of ["limit=0", "limit=101", "limit=x", "starting_after=cus_1"]) {
      await expectError(await callWithStripe("GET", `${path(t.organization.id, "invoices")}?${query}`, { token: t.owner.token }), 400, "validation_error");
    }
  });

  it("lists saved cards with the default one marked, and opens a portal session", async () => {
    const t = await tenant();
    const customerId = await withCustomer(t.organization.id);
    const card = (id: string, brand: string, last4: string) => ({ id, object: "payment_method", type: "card", customer: customerId, card: { brand, last4, exp_month: 4, exp_year: 2030, country: "US", funding: "credit" } });
    intercepted = interceptStripe({
      [`GET /v1/customers/${customerId}`]: () => ({ body: customer(customerId, t.organization.id, { invoice_settings: { default_payment_method: "pm_2" } }) }),
      [`GET /v1/customers/${customerId}/payment_methods`]: () => ({ body: { object: "list", data: [card("pm_1", "visa", "4242"), card("pm_2", "mastercard", "4444")], has_more: false } }),
      "POST /v1/billing_portal/sessions": ({ form }) => ({ body: { id: "bps_1", object: "billing_portal.session", customer: form.get("customer"), url: "https://billing.stripe.com/p/session/test_1", return_url: form.get("return_url") } }),
    });
    const methods = await json(await callWithStripe("GET", path(t.organization.id, "payment-methods"), { token: t.owner.token }));
    expect(methods.data).toEqual([
      { id: "pm_1", brand: "visa", last4: "4242", exp_month: 4, exp_year: 2030, default: false },
      { id: "pm_2", brand: "mastercard", last4: "4444", exp_month: 4, exp_year: 2030, default: true },
    ]);
    expect(await json(await callWithStripe("POST", path(t.organization.id, "billing-portal"), { token: t.owner.token }))).toEqual({ url: "https://billing.stripe.com/p/session/test_1" });
    expect(intercepted.calls.find((c) => c.path === "/v1/billing_portal/sessions")!.form.get("customer")).toBe(customerId);
  });
});

describe("cancel and sync", () => {
  it("cancels at period end (409 when nothing to cancel) and sync stores what Stripe has", async () => {
    const t = await tenant();
    await expectError(await callWithStripe("POST", path(t.organization.id, "cancel-subscription"), { token: t.owner.token }), 409, "nothing_to_cancel");
    const customerId = await withCustomer(t.organization.id);
    const sub = `sub_${crypto.randomUUID().slice(0, 8)}`;
    const meta = { id: sub, customer: customerId, organizationId: t.organization.id, plan: "pro", interval: "monthly" } as const;
    intercepted = interceptStripe({
      "GET /v1/subscriptions": ({ form }) => {
        expect(form.get("customer")).toBe(customerId);
        return { body: { object: "list", data: [subscription(meta)], has_more: false, url: "/v1/subscriptions" } };
      },
      [`POST /v1/subscriptions/${sub}`]: ({ form }) => ({ body: subscription({ ...meta, cancelAtPeriodEnd: form.get("cancel_at_period_end") === "true" }) }),
    });
    expect(await json(await callWithStripe("POST", path(t.organization.id, "sync-subscription"), { token: t.owner.token }))).toMatchObject({ plan: "pro", status: "active", source: "stripe", cancel_at_period_end: false });
    const canceled = await json(await callWithStripe("POST", path(t.organization.id, "cancel-subscription"), { token: t.owner.token }));
    expect(canceled).toMatchObject({ plan: "pro", status: "active", effective_plan: "pro", cancel_at_period_end: true });
    await expectError(await callWithStripe("POST", path(t.organization.id, "cancel-subscription"), { token: t.owner.token }), 409, "nothing_to_cancel");
    // A webhook created before the sync is older than what is stored: it changes nothing.
    await deliver(stripeEvent("customer.subscription.updated", subscription(meta), nowSeconds() - 60));
    expect((await json(await call("GET", path(t.organization.id, "subscription"), { token: t.owner.token }))).cancel_at_period_end).toBe(true);
  });
});
