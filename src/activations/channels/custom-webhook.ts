import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from "../webhook-signature";
import { asProviderCall, expectSuccess, type Channel } from "./channel";

const Config = z.strictObject({
  url: z.string().url().max(2048).openapi({ example: "https://hooks.example.com/segmento" }),
  signingSecret: z.string().min(16).max(256).optional().openapi({ description: "Secret: signs each request (HMAC-SHA256); [REDACTED] on read" }),
});
type Config = z.infer<typeof Config>;

/** JSON body, signed when the connector has a signing secret (see webhook-signature.ts). */
export async function webhookHeaders(config: Config, body: string, idempotencyKey: string, now = new Date()) {
  const headers: Record<string, string> = { "Content-Type": "application/json", "User-Agent": "Segmento-Webhooks/1", [IDEMPOTENCY_HEADER]: idempotencyKey };
  if (config.signingSecret) {
    const timestamp = Math.floor(now.getTime() / 1000);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = await webhookSignature(config.signingSecret, timestamp, body);
  }
  return headers;
}

export const customWebhook: Channel<Config> = {
  type: "custom_webhook",
  config: Config,
  secretFields: ["signingSecret"],
  urlFields: { url: {} },
  async test(config, context) {
    const body = JSON.stringify({ type: "segmento.test", connector_id: context.connectorId, sent_at: (context.now ?? new Date()).toISOString() });
    const headers = await webhookHeaders(config, body, `test-${crypto.randomUUID()}`, context.now);
    const response = await asProviderCall(() => outboundFetch(config.url, { method: "POST", headers, body }, { allowLoopback: context.allowLoopback, dnsResolver: context.dnsResolver }));
    expectSuccess(response, (_json, text) => text);
  },
  chunkSize: 500,
  sendsRemovals: () => true,
  async deliver(config, batch, context) {
    const body = JSON.stringify({
      type: "segment.sync",
      automation_id: batch.automationId,
      run_id: batch.runId,
      segment: batch.segment,
      chunk: batch.chunk,
      added: batch.added,
      removed: batch.removed.map((m) => m.customer_id),
    });
    const headers = await webhookHeaders(config, body, batch.idempotencyKey, context.now);
    const response = await asProviderCall(() => outboundFetch(config.url, { method: "POST", headers, body }, { allowLoopback: context.allowLoopback, dnsResolver: context.dnsResolver }));
    expectSuccess(response, (_json, text) => text);
  },
};
