import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { renderTemplate } from "../template";
import { asProviderCall, basicAuth, expectSuccess, templateValues, type Channel } from "./channel";

const Config = z.strictObject({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "a Twilio Account SID (AC and 32 hex digits)"),
  authToken: z.string().min(16).max(256).openapi({ description: "Secret; [REDACTED] on read" }),
  fromNumber: z
    .string()
    .regex(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, "an E.164 number or a Messaging Service SID")
    .optional()
    .openapi({ description: "Sender: an E.164 number or a Messaging Service SID" }),
});
type Config = z.infer<typeof Config>;

export const TWILIO_API = "https://api.twilio.com/2010-04-01";

/** `{code, message, more_info, status}`. */
export const twilioError = (json: any) => json?.message;

export const twilio: Channel<Config> = {
  type: "twilio",
  config: Config,
  secretFields: ["authToken"],
  urlFields: {},
  async test(config) {
    // Fetching the account resource checks the SID and token together.
    const url = `${TWILIO_API}/Accounts/${config.accountSid}.json`;
    const response = await asProviderCall(() => outboundFetch(url, { headers: { Authorization: basicAuth(config.accountSid, config.authToken), Accept: "application/json" } }));
    expectSuccess(response, twilioError);
  },
  // One request per member, at most once each (see deliverMember): small chunks.
  chunkSize: 25,
  async deliverMember(config, member, batch) {
    const form = new URLSearchParams({ To: member.phone ?? "", Body: renderTemplate(batch.message?.body ?? "", templateValues(member, batch)) });
    form.set(config.fromNumber?.startsWith("MG") ? "MessagingServiceSid" : "From", config.fromNumber ?? "");
    const response = await asProviderCall(() =>
      outboundFetch(`${TWILIO_API}/Accounts/${config.accountSid}/Messages.json`, {
        method: "POST",
        headers: { Authorization: basicAuth(config.accountSid, config.authToken), "Content-Type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      }),
    );
    expectSuccess(response, twilioError);
  },
};
