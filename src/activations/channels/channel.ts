import type { z } from "@hono/zod-openapi";
import { OutboundRequestError, OutboundUrlError, type OutboundResponse, type UrlPolicy } from "../outbound";

export const channelTypes = ["custom_webhook", "sendgrid", "mailchimp", "amazon_ses", "twilio", "messagebird", "slack", "teams"] as const;
export type ChannelType = (typeof channelTypes)[number];

export type ChannelContext = {
  /** OUTBOUND_ALLOW_LOOPBACK */
  allowLoopback: boolean;
  connectorId: string;
  now?: Date;
};

/** One delivery channel: its configuration fields, which of them are secrets, and its test call. */
export type Channel<Config extends Record<string, unknown> = Record<string, any>> = {
  type: ChannelType;
  config: z.ZodType<Config>;
  /** fields sealed at rest and shown as [REDACTED] */
  secretFields: readonly string[];
  /** fields holding a URL a tenant wrote, and the hosts each may name */
  urlFields: Readonly<Record<string, Omit<UrlPolicy, "allowLoopback">>>;
  /** A cheap authenticated read, or a test message where the provider has no read; throws ProviderError. */
  test(config: Config, context: ChannelContext): Promise<void>;
};

/** A provider's refusal, in words safe to show the tenant (its status and message; never our secrets). */
export class ProviderError extends Error {
  constructor(
    readonly providerStatus: number | null,
    message: string,
  ) {
    super(message);
  }
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
  throw new ProviderError(response.status, (message?.trim() || `HTTP ${response.status}`).slice(0, 500));
}

/** Outbound failures (refused URL, network, timeout) as provider errors without a status. */
export async function asProviderCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OutboundUrlError) throw new ProviderError(null, `the URL is not allowed: ${error.message}`);
    if (error instanceof OutboundRequestError) throw new ProviderError(null, error.message);
    throw error;
  }
}

export const basicAuth = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;
