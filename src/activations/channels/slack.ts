import { z } from "@hono/zod-openapi";
import { hostIn, outboundFetch } from "../outbound";
import { asProviderCall, expectSuccess, type Channel, type DeliveryBatch } from "./channel";

const summaryText = (batch: DeliveryBatch) =>
  `Segment "${batch.segment.name}": ${batch.summary.added} added, ${batch.summary.removed} removed, ${batch.summary.held_out} held out, ${batch.summary.skipped_no_address} skipped (${batch.summary.member_count} members; run ${batch.runId}).`;


const Config = z.strictObject({
  webhookUrl: z.string().url().max(2048).openapi({ example: "https://hooks.slack.com/services/T000/B000/XXXX" }),
});
type Config = z.infer<typeof Config>;

export const slackHosts = hostIn("hooks.slack.com", "hooks.slack-gov.com");

/** Incoming webhooks answer errors in plain text (`invalid_token`, `no_service`, `channel_not_found`…). */
export async function postToSlack(config: Config, allowLoopback: boolean, text: string) {
  const response = await asProviderCall(() =>
    outboundFetch(config.webhookUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }) }, { allowedHost: slackHosts, allowLoopback }),
  );
  expectSuccess(response, (_json, body) => body);
}

export const slack: Channel<Config> = {
  type: "slack",
  config: Config,
  secretFields: [],
  urlFields: { webhookUrl: { allowedHost: slackHosts } },
  async test(config, context) {
    // An incoming webhook has nothing to read: the test is a message to the channel.
    await postToSlack(config, context.allowLoopback, "Segmento: connector test. Activations will post a summary of each run here.");
  },
  // One summary message per run: Slack is a channel for people, not a list of members.
  chunkSize: 0,
  sendsRemovals: () => true,
  async deliver(config, batch, context) {
    await postToSlack(config, context.allowLoopback, batch.message ? `${batch.message.body}\n${summaryText(batch)}` : summaryText(batch));
  },
};
