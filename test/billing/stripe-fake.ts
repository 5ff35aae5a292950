import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { vi } from "vitest";
import worker from "../../src/index";

export const STRIPE_SECRET_KEY = "sk_test_51SegmentoFakeKeyForTests";
export const STRIPE_WEBHOOK_SECRET = "whsec_test_segmento_webhook_secret";
const stripeEnv = { ...env, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET };

/** A request through the Worker with the Stripe secrets configured (the default env has none). */
export async function callWithStripe(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] ??= "application/json";
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://localhost${path}`, { method, headers, body }) as Request<unknown, IncomingRequestCfProperties>, stripeEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Signs a webhook payload for real, as Stripe does, with the test secret. */
export async function signedWebhook(event: object, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? STRIPE_WEBHOOK_SECRET,
    timestamp: options.timestamp,
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
  return { payload, header };
}

export async function deliver(event: object, options: { secret?: string; timestamp?: number } = {}) {
  const { payload, header } = await signedWebhook(event, options);
  return callWithStripe("POST", "/api/webhooks/stripe", { rawBody: payload, headers: { "Stripe-Signature": header } });
}

let eventCounter = 0;
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A Stripe event envelope as the API version pinned by the SDK sends it. */
export function stripeEvent(type: string, object: object, created = nowSeconds()) {
  return {
    id: `evt_test_${Date.now().toString(36)}${(eventCounter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    object: "event",
    api_version: Stripe.API_VERSION,
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

export function price(plan: string, interval: "monthly" | "annual", trialDays: number | null = 14) {
  return {
    id: `price_${plan}_${interval}`,
    object: "price",
    active: true,
    billing_scheme: "per_unit",
    created: 1767225600,
    currency: "usd",
    livemode: false,
    lookup_key: `segmento_${plan}_${interval}`,
    metadata: {},
    nickname: null,
    product: `prod_${plan}`,
    recurring: { interval: interval === "monthly" ? "month" : "year", interval_count: 1, meter: null, trial_period_days: trialDays, usage_type: "licensed" },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: plan === "starter" ? (interval === "monthly" ? 2900 : 28800) : interval === "monthly" ? 9900 : 94800,
    unit_amount_decimal: "2900",
  };
}

/** A subscription object as Stripe sends it (periods on the item since API 2025-03-31). */
export function subscription(options: {
  id: string;
  customer: string;
  organizationId?: string;
  plan?: string;
  interval?: "monthly" | "annual";
  status?: string;
  periodStart?: number;
  periodEnd?: number;
  cancelAtPeriodEnd?: boolean;
  trialEnd?: number | null;
}) {
  const periodStart = options.periodStart ?? nowSeconds() - 86400;
  const periodEnd = options.periodEnd ?? periodStart + 30 * 86400;
  return {
    id: options.id,
    object: "subscription",
    billing_cycle_anchor: periodStart,
    cancel_at: options.cancelAtPeriodEnd ? periodEnd : null,
    cancel_at_period_end: options.cancelAtPeriodEnd ?? false,
    canceled_at: options.status === "canceled" ? nowSeconds() : null,
    collection_method: "charge_automatically",
    created: periodStart,
    currency: "usd",
    customer: options.customer,
    default_payment_method: "pm_card_visa",
    ended_at: options.status === "canceled" ? nowSeconds() : null,
    items: {
      object: "list",
      data: [
        {
          id: `si_${options.id}`,
          object: "subscription_item",
          created: periodStart,
          current_period_end: periodEnd,
          current_period_start: periodStart,
          metadata: {},
          price: price(options.plan ?? "pro", options.interval ?? "monthly"),
          quantity: 1,
          subscription: options.id,
        },
      ],
      has_more: false,
      url: `/v1/subscription_items?subscription=${options.id}`,
    },
    latest_invoice: `in_${options.id}`,
    livemode: false,
    metadata: options.organizationId ? { organization_id: options.organizationId } : {},
    start_date: periodStart,
    status: options.status ?? "active",
    trial_end: options.trialEnd ?? null,
    trial_start: options.trialEnd ? periodStart : null,
  };
}

type Handler = (request: { method: string; path: string; form: URLSearchParams; headers: Headers }) => { status?: number; body: unknown } | undefined;

/**
 * Stripe's API, intercepted at `fetch`: answers from `routes` (method + path), honours Idempotency-Key as
 * Stripe does (same key, same answer), and records every call.
 */
export function interceptStripe(routes: Record<string, Handler>) {
  const calls: Array<{ method: string; path: string; form: URLSearchParams; idempotencyKey: string | null }> = [];
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const original = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== "api.stripe.com") return original(input, init);
    const text = new TextDecoder().decode(await request.arrayBuffer());
    const form = new URLSearchParams(request.method === "GET" || request.method === "DELETE" ? url.search : text);
    const key = request.headers.get("Idempotency-Key");
    calls.push({ method: request.method, path: url.pathname, form, idempotencyKey: key });
    // Give concurrent requests a chance to interleave, as over a network.
    await new Promise((r) => setTimeout(r, 5));
    const cacheKey = key && request.method === "POST" ? `${url.pathname} ${key}` : null;
    let answer = cacheKey ? idempotent.get(cacheKey) : undefined;
    if (!answer) {
      const route = Object.entries(routes).find(([pattern]) => {
        const [m, p] = pattern.split(" ");
        return m === request.method && new RegExp(`^${p}$`).test(url.pathname);
      });
      const result = route?.[1]({ method: request.method, path: url.pathname, form, headers: request.headers });
      answer = result
        ? { status: result.status ?? 200, body: result.body }
        : { status: 404, body: { error: { type: "invalid_request_error", message: `Unrecognized request URL (${request.method}: ${url.pathname})` } } };
      if (cacheKey) idempotent.set(cacheKey, answer);
    }
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json", "Request-Id": `req_${calls.length}` } });
  });
  return { calls, restore: () => spy.mockRestore() };
}

export function customer(id: string, organizationId: string, extra: object = {}) {
  return {
    id,
    object: "customer",
    address: null,
    balance: 0,
    created: nowSeconds(),
    currency: null,
    email: null,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: { organization_id: organizationId },
    name: "Acme",
    ...extra,
  };
}
