import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { billingAccounts, type PostalAddress } from "../db/schema";
import { plans, priceLookupKey, type BillingInterval, type PlanId } from "../billing/plans";
import { callStripe, stripeClient, type StripeSecrets } from "../billing/stripe";
import { ApiError, invalidField } from "../errors";
import type { OrganizationRecord } from "./organizations";
import { assertNoLiveSubscription, linkCustomerStatement } from "./subscriptions";
import { storedTaxId } from "../db/stored-json";

export type BillingDetails = { name: string | null; email: string | null; tax_id: { type: string; value: string } | null; address: PostalAddress | null };

async function accountOf(db: Database, organizationId: string) {
  return db.select().from(billingAccounts).where(eq(billingAccounts.organizationId, organizationId)).get();
}

export async function billingDetailsOf(db: Database, organizationId: string): Promise<BillingDetails> {
  const account = await accountOf(db, organizationId);
  return {
    name: account?.name ?? null,
    email: account?.email ?? null,
    tax_id: account?.taxId ? storedTaxId(account.taxId) : null,
    address: account?.address ?? null,
  };
}

/**
 * The organization's Stripe customer, created on first need. The idempotency key is derived from the
 * organization id, so concurrent first calls get the same customer from Stripe and store it once.
 */
export async function ensureCustomer(env: StripeSecrets, db: Database, d1: D1Database, organization: OrganizationRecord): Promise<string> {
  const stripe = await stripeClient(env);
  const account = await accountOf(db, organization.id);
  if (account?.stripeCustomerId) return account.stripeCustomerId;
  const customer = await callStripe("customers.create", () =>
    stripe.customers.create(
      {
        name: account?.name ?? organization.name,
        email: account?.email ?? undefined,
        address: stripeAddress(account?.address ?? null),
        metadata: { organization_id: organization.id },
      },
      { idempotencyKey: `segmento-customer-${organization.id}` },
    ),
  );
  await linkCustomerStatement(d1, organization.id, customer.id).run();
  return (await accountOf(db, organization.id))!.stripeCustomerId!;
}

const stripeAddress = (address: PostalAddress | null) =>
  address
    ? {
        line1: address.line1 ?? "",
        line2: address.line2 ?? "",
        city: address.city ?? "",
        state: address.state ?? "",
        postal_code: address.postal_code ?? "",
        country: address.country ?? "",
      }
    : undefined;

/**
 * Saves the billing details and syncs them to the Stripe customer: Stripe first, so a refused update
 * (an invalid tax id, say) changes nothing here.
 */
export async function updateBillingDetails(env: StripeSecrets, db: Database, d1: D1Database, organization: OrganizationRecord, details: BillingDetails) {
  const stripe = await stripeClient(env);
  const customerId = await ensureCustomer(env, db, d1, organization);
  const wanted = details.tax_id;
  const existing = await callStripe("customers.listTaxIds", () => stripe.customers.listTaxIds(customerId, { limit: 100 }));
  // The new tax id first: Stripe checks it, and a refused one must leave everything as it was.
  if (wanted && !existing.data.some((t) => t.type === wanted.type && t.value === wanted.value)) {
    await callStripe(
      "customers.createTaxId",
      () => stripe.customers.createTaxId(customerId, { type: wanted.type as never, value: wanted.value }),
      (error) => invalidField("tax_id", error.code ?? "invalid", "Stripe does not accept this tax id for this type"),
    );
  }
  for (const taxId of existing.data) {
    if (!wanted || taxId.type !== wanted.type || taxId.value !== wanted.value) await callStripe("customers.deleteTaxId", () => stripe.customers.deleteTaxId(customerId, taxId.id));
  }
  await callStripe("customers.update", () =>
    stripe.customers.update(customerId, { name: details.name ?? organization.name, email: details.email ?? "", address: stripeAddress(details.address) ?? "" }),
  );
  const now = new Date();
  const values = { name: details.name, email: details.email, taxId: wanted ? JSON.stringify(wanted) : null, address: details.address, updatedAt: now };
  await db
    .insert(billingAccounts)
    .values({ organizationId: organization.id, stripeCustomerId: customerId, ...values })
    .onConflictDoUpdate({ target: billingAccounts.organizationId, set: values });
  return billingDetailsOf(db, organization.id);
}

/**
 * A Stripe Checkout Session (subscription mode) for a self-serve plan, priced by lookup key. The trial
 * length is the price's own (`recurring.trial_period_days` in Stripe), never set here.
 */
export async function createCheckout(
  env: StripeSecrets,
  db: Database,
  d1: D1Database,
  organization: OrganizationRecord,
  input: { plan: PlanId; interval: BillingInterval },
  returnUrl: string,
) {
  if (!plans[input.plan].selfServe) throw new ApiError("contact_sales", { plan: input.plan, contact: "POST /api/contact" }, { plan: plans[input.plan].name });
  await assertNoLiveSubscription(db, organization.id);
  const stripe = await stripeClient(env);
  const lookupKey = priceLookupKey(input.plan, input.interval);
  const prices = await callStripe("prices.list", () => stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 }));
  const price = prices.data[0];
  if (!price) throw new ApiError("billing_unavailable", { lookup_key: lookupKey }, { reason: `no active Stripe price has the lookup key ${lookupKey}` });
  const customerId = await ensureCustomer(env, db, d1, organization);
  const trialDays = price.recurring?.trial_period_days ?? undefined;
  const session = await callStripe("checkout.sessions.create", () =>
    stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customerId,
      client_reference_id: organization.id,
      line_items: [{ price: price.id, quantity: 1 }],
      metadata: { organization_id: organization.id },
      subscription_data: { metadata: { organization_id: organization.id }, ...(trialDays ? { trial_period_days: trialDays } : {}) },
      success_url: `${returnUrl}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${returnUrl}?checkout=canceled`,
    }),
  );
  return { url: session.url!, session_id: session.id, trial_period_days: trialDays ?? null };
}

export async function createPortalSession(env: StripeSecrets, db: Database, d1: D1Database, organization: OrganizationRecord, returnUrl: string) {
  const stripe = await stripeClient(env);
  const customerId = await ensureCustomer(env, db, d1, organization);
  const session = await callStripe("billingPortal.sessions.create", () => stripe.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl }));
  return { url: session.url };
}

/** Invoices newest first, a page at a time (Stripe's cursor: the last invoice id of the previous page). */
export async function listInvoices(env: StripeSecrets, db: Database, organizationId: string, page: { limit: number; starting_after?: string }) {
  const stripe = await stripeClient(env);
  const customerId = (await accountOf(db, organizationId))?.stripeCustomerId;
  if (!customerId) return { data: [], has_more: false, next_cursor: null };
  const list = await callStripe("invoices.list", () => stripe.invoices.list({ customer: customerId, limit: page.limit, starting_after: page.starting_after }));
  const data = list.data.map((invoice) => ({
    id: invoice.id!,
    number: invoice.number,
    status: invoice.status,
    amount_due: invoice.amount_due,
    amount_paid: invoice.amount_paid,
    total: invoice.total,
    currency: invoice.currency,
    created: new Date(invoice.created * 1000).toISOString(),
    period_start: new Date(invoice.period_start * 1000).toISOString(),
    period_end: new Date(invoice.period_end * 1000).toISOString(),
    hosted_invoice_url: invoice.hosted_invoice_url ?? null,
    invoice_pdf: invoice.invoice_pdf ?? null,
  }));
  return { data, has_more: list.has_more, next_cursor: list.has_more ? (data.at(-1)?.id ?? null) : null };
}

/** Saved cards: brand, last 4, expiry, and which one invoices are charged to. */
export async function listPaymentMethods(env: StripeSecrets, db: Database, organizationId: string) {
  const stripe = await stripeClient(env);
  const customerId = (await accountOf(db, organizationId))?.stripeCustomerId;
  if (!customerId) return { data: [] };
  const [customer, methods] = await Promise.all([
    callStripe("customers.retrieve", () => stripe.customers.retrieve(customerId)),
    callStripe("customers.listPaymentMethods", () => stripe.customers.listPaymentMethods(customerId, { type: "card", limit: 100 })),
  ]);
  const defaultId = "deleted" in customer && customer.deleted ? null : (customer as { invoice_settings?: { default_payment_method?: string | { id: string } | null } }).invoice_settings?.default_payment_method;
  const defaultMethod = typeof defaultId === "string" ? defaultId : (defaultId?.id ?? null);
  return {
    data: methods.data.map((m) => ({
      id: m.id,
      brand: m.card?.brand ?? null,
      last4: m.card?.last4 ?? null,
      exp_month: m.card?.exp_month ?? null,
      exp_year: m.card?.exp_year ?? null,
      default: m.id === defaultMethod,
    })),
  };
}
