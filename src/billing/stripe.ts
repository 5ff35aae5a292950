import type Stripe from "stripe";
import { ApiError } from "../errors";

/** The Stripe secrets as bindings; both absent locally, where Stripe-backed endpoints answer 503. */
export type StripeSecrets = { STRIPE_SECRET_KEY?: string; STRIPE_WEBHOOK_SECRET?: string };

/** Webhooks older than this (by the signature's timestamp) are refused, as Stripe recommends. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The SDK, loaded on first use: it is 84 KiB of the bundle gzipped (717 KiB unminified) and every one of
 * its ~270 resource classes is built when the module is evaluated, so only billing requests pay for it,
 * not the cold start of every other request (the bundler keeps a dynamic import's evaluation lazy).
 */
let sdk: Promise<typeof Stripe> | undefined;
const loadStripe = () => (sdk ??= import("stripe").then((m) => m.default));

let cached: { key: string; client: Stripe } | undefined;

/**
 * The Stripe client for the configured secret key, on the fetch HTTP client (no Node APIs). Looking up
 * `fetch` on each call, rather than capturing it, keeps outbound requests interceptable in tests.
 */
export async function stripeClient(env: StripeSecrets): Promise<Stripe> {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new ApiError("billing_unavailable", { secret: "STRIPE_SECRET_KEY" }, { reason: "STRIPE_SECRET_KEY is not configured" });
  if (cached?.key !== key) {
    const StripeSdk = await loadStripe();
    cached = {
      key,
      client: new StripeSdk(key, {
        httpClient: StripeSdk.createFetchHttpClient((input, init) => fetch(input, init)),
        maxNetworkRetries: 2,
        timeout: 10_000,
      }),
    };
  }
  return cached.client;
}

/** The event of a webhook delivery, its signature checked against the raw body; 400 when it fails. */
export async function verifiedWebhookEvent(env: StripeSecrets, rawBody: string, signature: string | undefined): Promise<Stripe.Event> {
  const secret = env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new ApiError("billing_unavailable", { secret: "STRIPE_WEBHOOK_SECRET" }, { reason: "STRIPE_WEBHOOK_SECRET is not configured" });
  if (!signature) throw new ApiError("invalid_signature");
  const StripeSdk = await loadStripe();
  try {
    return await StripeSdk.webhooks.constructEventAsync(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS, StripeSdk.createSubtleCryptoProvider());
  } catch {
    throw new ApiError("invalid_signature");
  }
}

/**
 * Runs a Stripe call; a failure of Stripe itself (network, 5xx, rate limit, a refused request) becomes
 * 503 `service_unavailable`, logged with Stripe's request id and never shown to the caller. `refused`
 * may turn Stripe's refusal of the caller's own input into a 4xx instead.
 */
export async function callStripe<T>(operation: string, call: () => Promise<T>, refused?: (error: Stripe.errors.StripeInvalidRequestError) => ApiError): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const { errors } = await loadStripe();
    if (refused && error instanceof errors.StripeInvalidRequestError) throw refused(error);
    if (error instanceof errors.StripeError) {
      console.error(JSON.stringify({ level: "error", message: `stripe ${operation} failed`, type: error.type, code: error.code, requestId: error.requestId, status: error.statusCode }));
      throw new ApiError("service_unavailable", { dependency: "stripe" });
    }
    throw error;
  }
}
