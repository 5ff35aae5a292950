import type { z } from "@hono/zod-openapi";
import { OutboundRequestError, OutboundUrlError, type OutboundResponse, type UrlPolicy } from "../outbound";

export const channelTypes = ["custom_webhook", "sendgrid", "mailchimp", "amazon_ses", "twilio", "messagebird", "slack", "teams"] as const;
export type ChannelType = (typeof channelTypes)[number];

export type ChannelContext = {
  /** OUTBOUND_ALLOW_LOOPBACK */
  allowLoopback: boolean;
  /** OUTBOUND_DNS_RESOLVER: resolves hosts a tenant chose freely (custom webhooks) before each request */
  dnsResolver: string;
  connectorId: string;
  now?: Date;
};

/** A member as a channel receives it: the address fields and the profile fields templates may use. */
export type DeliveryMember = { customer_id: string; email: string | null; phone: string | null; fields: Record<string, unknown> };

/** A member who left the segment, with the address the channel added them by (null when unknown). */
export type RemovedMember = { customer_id: string; address: string | null };

/** One chunk of a run, as handed to a channel. */
export type DeliveryBatch = {
  runId: string;
  automationId: string;
  segment: { id: string; name: string };
  chunk: number;
  /** members to deliver (treated, not yet in sync) */
  added: DeliveryMember[];
  /** members who left the segment since the last successful sync (channels that send removals) */
  removed: RemovedMember[];
  /** the whole run in numbers, for channels that post one summary */
  summary: { member_count: number; added: number; removed: number; held_out: number; skipped_no_address: number };
  message: { subject?: string; body: string } | null;
  /** the same on every retry of this chunk */
  idempotencyKey: string;
};

/** One delivery channel: its configuration fields, which of them are secrets, its test call and its delivery. */
export type Channel<Config extends Record<string, unknown> = Record<string, any>> = {
  type: ChannelType;
  config: z.ZodType<Config>;
  /** fields sealed at rest and shown as [REDACTED] */
  secretFields: readonly string[];
  /** fields holding a URL a tenant wrote, and the hosts each may name */
  urlFields: Readonly<Record<string, Omit<UrlPolicy, "allowLoopback">>>;
  /** A cheap authenticated read, or a test message where the provider has no read; throws ProviderError. */
  test(config: Config, context: ChannelContext): Promise<void>;
  /** Members per chunk (one queue message); 0: one summary message per run (Slack, Teams). */
  chunkSize: number;
  /** whether members who left the segment are sent (as `removed`), given the connector's non-secret settings */
  sendsRemovals?(settings: Record<string, unknown>): boolean;
  /**
   * A channel delivers either whole chunks (`deliver`: webhooks, lists, summaries; a repeat is harmless
   * there: an idempotency key, an upsert or a removal) or one member at a time (`deliverMember`: email
   * and SMS, which have no idempotency key; the run sends each member at most once through it).
   * Both throw ProviderError (retried when `retryable`).
   */
  deliver?(config: Config, batch: DeliveryBatch, context: ChannelContext): Promise<void>;
  deliverMember?(config: Config, member: DeliveryMember, batch: DeliveryBatch, context: ChannelContext): Promise<void>;
};

/**
 * Whether a provider certainly did not act on a request: it answered with a redirect, a 4xx, or 503
 * (unavailable: refused before any work). No answer, or another 5xx, may come after it acted.
 */
export const certainlyNotSent = (error: ProviderError) =>
  error instanceof UrlRefusedError || (error.providerStatus !== null && (error.providerStatus < 500 || error.providerStatus === 503));

/** Whether a provider failure may pass on its own: no answer, 408, 429 or a 5xx (a refused URL never does). */
export const retryable = (error: ProviderError) =>
  !(error instanceof UrlRefusedError) && (error.providerStatus === null || error.providerStatus === 408 || error.providerStatus === 429 || error.providerStatus >= 500);

/** A provider's refusal, in words safe to show the tenant (its status and message; never our secrets). */
export class ProviderError extends Error {
  constructor(
    readonly providerStatus: number | null,
    message: string,
    /** seconds the provider asked us to wait (Retry-After) */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The outbound guard refused the URL (or what its host resolves to): no request was sent. */
export class UrlRefusedError extends ProviderError {}

/** Retry-After as seconds (delta or HTTP date), or null. */
export function retryAfter(headers: Headers, now = Date.now()): number | null {
  const value = headers.get("Retry-After");
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Accepts a 2xx; otherwise raises the provider's status and the message `describe` finds in its body. */
export function expectSuccess(response: OutboundResponse, describe: (body: any, text: string) => string | undefined) {
  if (response.status >= 200 && response.status < 300) return;
  if (response.status >= 300 && response.status < 400) throw new ProviderError(response.status, "the provider answered with a redirect, which is not followed");
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    // Not JSON: the text itself is the message.
  }
  let message: string | undefined;
  try {
    message = describe(parsed, response.body);
  } catch {
    message = undefined;
  }
  throw new ProviderError(response.status, (message?.trim() || `HTTP ${response.status}`).slice(0, 500), retryAfter(response.headers));
}

/** Outbound failures (refused URL, network, timeout) as provider errors without a status. */
export async function asProviderCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OutboundUrlError) throw new UrlRefusedError(null, `the URL is not allowed: ${error.message}`);
    if (error instanceof OutboundRequestError) throw new ProviderError(null, error.message);
    throw error;
  }
}

export const basicAuth = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

/** What a template may name for a member (see template.ts). */
export const templateValues = (member: DeliveryMember, batch: DeliveryBatch) => ({ ...member.fields, customer_id: member.customer_id, email: member.email, phone: member.phone, segment_name: batch.segment.name });
