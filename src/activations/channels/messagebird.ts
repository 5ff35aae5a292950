import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { renderTemplate } from "../template";
import { asProviderCall, expectSuccess, templateValues, type Channel } from "./channel";

const Config = z.strictObject({
  apiKey: z.string().regex(/^[A-Za-z0-9_-]{10,128}$/, "a MessageBird access key").openapi({ description: "Secret; [REDACTED] on read" }),
  originator: z
    .string()
    .regex(/^(\+?\d{1,16}|[A-Za-z0-9 ]{1,11})$/, "a phone number or up to 11 letters and digits")
    .optional()
    .openapi({ description: "Sender shown on the SMS" }),
});
type Config = z.infer<typeof Config>;

export const MESSAGEBIRD_API = "https://rest.messagebird.com";

/** `{"errors":[{"code":…,"description":…,"parameter":…}]}`. */
export const messagebirdError = (json: any) => (Array.isArray(json?.errors) ? json.errors.map((e: any) => e?.description).filter(Boolean).join("; ") : undefined);

export const messagebird: Channel<Config> = {
  type: "messagebird",
  config: Config,
  secretFields: ["apiKey"],
  urlFields: {},
  async test(config) {
    // The balance: a read any live or test key may make.
    const response = await asProviderCall(() => outboundFetch(`${MESSAGEBIRD_API}/balance`, { headers: { Authorization: `AccessKey ${config.apiKey}`, Accept: "application/json" } }));
    expectSuccess(response, messagebirdError);
  },
  // One request per member, at most once each (see deliverMember): small chunks.
  chunkSize: 25,
  async deliverMember(config, member, batch) {
    const body = JSON.stringify({ originator: config.originator, recipients: [member.phone], body: renderTemplate(batch.message?.body ?? "", templateValues(member, batch)) });
    const response = await asProviderCall(() =>
      outboundFetch(`${MESSAGEBIRD_API}/messages`, { method: "POST", headers: { Authorization: `AccessKey ${config.apiKey}`, "Content-Type": "application/json" }, body }),
    );
    expectSuccess(response, messagebirdError);
  },
};
