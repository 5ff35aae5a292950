import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { asProviderCall, basicAuth, expectSuccess, type Channel } from "./channel";

const Config = z.strictObject({
  apiKey: z
    .string()
    .max(256)
    .regex(/^[0-9a-zA-Z]{8,}-[a-z]{1,10}[0-9]{1,4}$/, "a Mailchimp API key ends in its data center, e.g. -us6")
    .openapi({ description: "Secret; [REDACTED] on read" }),
  listId: z.string().regex(/^[0-9a-zA-Z]{1,64}$/, "a Mailchimp audience (list) id").openapi({ example: "a1b2c3d4e5" }),
});
type Config = z.infer<typeof Config>;

/** The API's base for a key: its data center is the key's suffix (`…-us6` → us6.api.mailchimp.com). */
export const mailchimpBase = (apiKey: string) => `https://${apiKey.split("-").at(-1)}.api.mailchimp.com/3.0`;

/** Problem details: `{type, title, status, detail, instance}`. */
export const mailchimpError = (json: any) => [json?.title, json?.detail].filter(Boolean).join(": ") || undefined;

export const mailchimp: Channel<Config> = {
  type: "mailchimp",
  config: Config,
  secretFields: ["apiKey"],
  urlFields: {},
  async test(config) {
    // Reading the audience checks the key and the list id together.
    const url = `${mailchimpBase(config.apiKey)}/lists/${encodeURIComponent(config.listId)}?fields=id,name`;
    const response = await asProviderCall(() => outboundFetch(url, { headers: { Authorization: basicAuth("segmento", config.apiKey), Accept: "application/json" } }));
    expectSuccess(response, mailchimpError);
  },
  // Batch subscribe takes up to 500 members; update_existing makes a repeat harmless.
  chunkSize: 500,
  async deliver(config, batch) {
    if (batch.added.length === 0) return;
    const body = JSON.stringify({ members: batch.added.map((m) => ({ email_address: m.email, status: "subscribed" })), update_existing: true });
    const url = `${mailchimpBase(config.apiKey)}/lists/${encodeURIComponent(config.listId)}`;
    const response = await asProviderCall(() =>
      outboundFetch(url, { method: "POST", headers: { Authorization: basicAuth("segmento", config.apiKey), "Content-Type": "application/json" }, body }),
    );
    expectSuccess(response, mailchimpError);
  },
};
