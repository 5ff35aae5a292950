import { z } from "@hono/zod-openapi";
import { errorResponse } from "../../errors";
import { billingIntervals, planIds } from "../../billing/plans";
import { subscriptionStatuses } from "../../db/schema";

/** The answer of every operation that calls Stripe when Stripe cannot serve it. */
export const stripeUnavailable = {
  503: errorResponse("Stripe is not configured (`billing_unavailable`) or did not answer (`service_unavailable`)"),
} as const;

const Limit = z.number().openapi({ description: "-1 for unlimited" });

export const PlanList = z
  .object({
    plans: z.array(
      z.object({
        id: z.enum(planIds),
        name: z.string(),
        self_serve: z.boolean().openapi({ description: "Bought through Stripe Checkout; Enterprise is sold by contact (POST /api/contact)" }),
        prices: z.object({
          monthly: z.number().nullable().openapi({ description: "USD cents per month, billed monthly; null: contact sales" }),
          annual: z.number().nullable().openapi({ description: "USD cents per month, billed annually; null: contact sales" }),
        }),
        quotas: z.object({
          rows: Limit,
          profiles: Limit,
          modelRuns: Limit,
          genaiOps: Limit,
          automations: Limit,
          storageGb: Limit,
          teamSeats: Limit,
        }),
      }),
    ),
  })
  .openapi("PlanList");

const IsoOrNull = z.string().nullable().openapi({ format: "date-time" });

export const Subscription = z
  .object({
    plan: z.enum(planIds).openapi({ description: "The plan subscribed to" }),
    effective_plan: z.enum(planIds).openapi({ description: "The plan whose quotas apply now (a past_due subscription keeps its plan 7 days)" }),
    source: z.enum(["stripe", "granted", "free", "none"]).openapi({ description: "`none`: no plan chosen yet (free quotas apply)" }),
    interval: z.enum(billingIntervals).nullable(),
    status: z.enum([...subscriptionStatuses, "none"]),
    current_period_start: IsoOrNull,
    current_period_end: IsoOrNull,
    cancel_at_period_end: z.boolean(),
    trial_end: IsoOrNull,
    grace_ends_at: IsoOrNull.openapi({ description: "When a past_due subscription falls to free quotas" }),
    latest_invoice_status: z.enum(["paid", "payment_failed"]).nullable(),
  })
  .openapi("Subscription");

export const CheckoutBody = z
  .object({
    plan: z.enum(["starter", "pro", "enterprise"]).openapi({ description: "Enterprise answers 409 `contact_sales`; the free plan is POST …/subscribe-free" }),
    interval: z.enum(billingIntervals),
  })
  .strict()
  .openapi("CheckoutRequest");

export const CheckoutSession = z
  .object({
    url: z.string().openapi({ example: "https://checkout.stripe.com/c/pay/cs_test_a1" }),
    session_id: z.string(),
    trial_period_days: z.number().nullable().openapi({ description: "From the Stripe price" }),
  })
  .openapi("CheckoutSession");

export const PortalSession = z.object({ url: z.string() }).openapi("BillingPortalSession");

const Text = (max: number) => z.string().trim().min(1).max(max).nullable().optional();

export const Address = z
  .object({
    line1: Text(200),
    line2: Text(200),
    city: Text(120),
    state: Text(120),
    postal_code: Text(20),
    country: z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code").nullable().optional(),
  })
  .strict()
  .openapi("PostalAddress");

export const BillingDetails = z
  .object({
    name: z.string().nullable(),
    email: z.string().nullable(),
    tax_id: z.object({ type: z.string(), value: z.string() }).nullable(),
    address: Address.nullable(),
  })
  .openapi("BillingDetails");

export const BillingDetailsBody = z
  .object({
    name: z.string().trim().min(1).max(200).nullable(),
    email: z.email().max(254).nullable().optional(),
    tax_id: z
      .object({
        type: z.string().regex(/^[a-z]{2,3}_[a-z_]{2,12}$/, "a Stripe tax id type, e.g. eu_vat").openapi({ example: "eu_vat" }),
        value: z.string().trim().min(2).max(64).openapi({ example: "DE123456789" }),
      })
      .strict()
      .nullable()
      .optional(),
    address: Address.nullable().optional(),
  })
  .strict()
  .openapi("BillingDetailsRequest");

export const InvoicesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: "limit", in: "query" } }),
  starting_after: z
    .string()
    .regex(/^in_[A-Za-z0-9]{1,64}$/, "an invoice id from a previous page's next_cursor")
    .optional()
    .openapi({ param: { name: "starting_after", in: "query" } }),
});

export const InvoiceList = z
  .object({
    data: z.array(
      z.object({
        id: z.string(),
        number: z.string().nullable(),
        status: z.string().nullable(),
        amount_due: z.number(),
        amount_paid: z.number(),
        total: z.number(),
        currency: z.string(),
        created: z.string(),
        period_start: z.string(),
        period_end: z.string(),
        hosted_invoice_url: z.string().nullable(),
        invoice_pdf: z.string().nullable(),
      }),
    ),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().openapi({ description: "Pass as starting_after for the next page" }),
  })
  .openapi("InvoiceList");

export const PaymentMethodList = z
  .object({
    data: z.array(
      z.object({
        id: z.string(),
        brand: z.string().nullable(),
        last4: z.string().nullable(),
        exp_month: z.number().nullable(),
        exp_year: z.number().nullable(),
        default: z.boolean(),
      }),
    ),
  })
  .openapi("PaymentMethodList");

const Metric = z.object({
  used: z.number(),
  limit: Limit,
  forecast_exhausted_at: IsoOrNull.openapi({ description: "When the limit is reached at the last 7 days' rate; null when not this period" }),
  thresholds: z.array(z.object({ percent: z.number(), crossed_at: z.string() })).openapi({ description: "80% and 100% marks crossed this period" }),
});

export const Usage = z
  .object({
    plan: z.enum(planIds),
    period_start: z.string(),
    period_end: z.string(),
    data: z.object({
      rows: Metric,
      profiles: Metric,
      automations: Metric,
      modelRuns: Metric,
      genaiOps: Metric,
      storageGb: Metric,
      teamSeats: Metric,
    }),
  })
  .openapi("OrganizationUsage");

export const WebhookReceipt = z
  .object({ received: z.boolean(), duplicate: z.boolean(), outcome: z.string() })
  .openapi("StripeWebhookReceipt");
