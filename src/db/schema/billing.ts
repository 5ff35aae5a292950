import { sqliteTable, text, integer, real, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";
import { billingIntervals, planIds } from "../../billing/plans";
import { organizations } from "./organizations";

export type PostalAddress = {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  state?: string | null;
  postal_code?: string | null;
  country?: string | null;
};

/** One Stripe customer per organization, and the billing details shown and synced to it. */
export const billingAccounts = sqliteTable(
  "billing_accounts",
  {
    organizationId: text("organization_id")
      .primaryKey()
      .references(() => organizations.id, { onDelete: "cascade" }),
    stripeCustomerId: text("stripe_customer_id"),
    name: text("name"),
    email: text("email"),
    taxId: text("tax_id"),
    address: text("address", { mode: "json" }).$type<PostalAddress>(),
    /** when the free plan was chosen (subscribe-free) */
    freePlanSince: integer("free_plan_since", { mode: "timestamp_ms" }),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("billing_accounts_customer_unique").on(t.stripeCustomerId)],
);

/** Stripe's subscription statuses, as stored. */
export const subscriptionStatuses = ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

/** Each Stripe subscription as last seen; `eventCreated` (Stripe seconds) orders updates. */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    plan: text("plan", { enum: planIds }).notNull(),
    interval: text("interval", { enum: billingIntervals }).notNull(),
    status: text("status", { enum: subscriptionStatuses }).notNull(),
    currentPeriodStart: integer("current_period_start", { mode: "timestamp_ms" }),
    currentPeriodEnd: integer("current_period_end", { mode: "timestamp_ms" }),
    cancelAtPeriodEnd: integer("cancel_at_period_end", { mode: "boolean" }).notNull().default(false),
    trialEnd: integer("trial_end", { mode: "timestamp_ms" }),
    /** when the subscription became past_due: its paid quotas last 7 days from here */
    pastDueSince: integer("past_due_since", { mode: "timestamp_ms" }),
    latestInvoiceStatus: text("latest_invoice_status", { enum: ["paid", "payment_failed"] }),
    /** Stripe seconds of the invoice event behind latestInvoiceStatus, ordering invoice events */
    invoiceEventCreated: integer("invoice_event_created"),
    trialWillEndAt: integer("trial_will_end_at", { mode: "timestamp_ms" }),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    eventCreated: integer("event_created").notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("subscriptions_org_idx").on(t.organizationId, t.startedAt)],
);

/** Every webhook event id received, so a replay is answered without effect. */
export const stripeEvents = sqliteTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  created: integer("created").notNull(),
  organizationId: text("organization_id"),
  outcome: text("outcome").notNull(),
  receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
});

/** The 80% and 100% marks of a quota crossed in a billing period, each recorded once. */
export const usageThresholds = sqliteTable(
  "usage_thresholds",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    periodStart: text("period_start").notNull(),
    metric: text("metric").notNull(),
    threshold: integer("threshold").notNull(),
    used: real("used").notNull(),
    limit: real("limit").notNull(),
    crossedAt: integer("crossed_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.periodStart, t.metric, t.threshold] })],
);
