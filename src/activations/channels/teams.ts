import { z } from "@hono/zod-openapi";
import { hostIn, outboundFetch } from "../outbound";
import { asProviderCall, expectSuccess, type Channel, type DeliveryBatch } from "./channel";

const summaryText = (batch: DeliveryBatch) =>
  `Segment "${batch.segment.name}": ${batch.summary.added} added, ${batch.summary.removed} removed, ${batch.summary.held_out} held out, ${batch.summary.skipped_no_address} skipped (${batch.summary.member_count} members; run ${batch.runId}).`;


const Config = z.strictObject({
  webhookUrl: z.string().url().max(2048).openapi({ example: "https://prod-00.westeurope.logic.azure.com/workflows/0a1b2c/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abc123" }),
});
type Config = z.infer<typeof Config>;

/** Workflows webhooks (Power Automate) and the older Office 365 connector webhooks. */
export const teamsHosts = hostIn(".environment.api.powerplatform.com", ".logic.azure.com", ".webhook.office.com");

/** A MessageCard, which both kinds of Teams webhook render. */
export async function postToTeams(config: Config, allowLoopback: boolean, title: string, text: string) {
  const card = { "@type": "MessageCard", "@context": "https://schema.org/extensions", summary: title, title, text };
  const response = await asProviderCall(() =>
    outboundFetch(config.webhookUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(card) }, { allowedHost: teamsHosts, allowLoopback }),
  );
  expectSuccess(response, (json, body) => json?.error?.message ?? body);
}

export const teams: Channel<Config> = {
  type: "teams",
  config: Config,
  secretFields: [],
  urlFields: { webhookUrl: { allowedHost: teamsHosts } },
  async test(config, context) {
    await postToTeams(config, context.allowLoopback, "Segmento connector test", "Activations will post a summary of each run here.");
  },
  chunkSize: 0,
  sendsRemovals: () => true,
  async deliver(config, batch, context) {
    await postToTeams(config, context.allowLoopback, batch.message?.subject ?? `Segmento: ${batch.segment.name}`, batch.message ? `${batch.message.body}\n\n${summaryText(batch)}` : summaryText(batch));
  },
};
