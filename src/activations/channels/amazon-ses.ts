import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { signAwsRequest } from "../sigv4";
import { renderTemplate } from "../template";
import { asProviderCall, expectSuccess, templateValues, type Channel } from "./channel";

const Config = z.strictObject({
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, "an AWS access key id").openapi({ example: "AKIAIOSFODNN7EXAMPLE" }),
  secretAccessKey: z.string().min(16).max(256).openapi({ description: "Secret; [REDACTED] on read" }),
  region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/, "an AWS region, e.g. eu-west-1").openapi({ example: "eu-west-1" }),
  fromEmail: z.email().max(254).optional().openapi({ description: "Verified sender the emails come from" }),
});
type Config = z.infer<typeof Config>;

export const sesBase = (region: string) => `https://email.${region}.amazonaws.com`;

/** SES v2 errors: JSON `{message}` with the error type in `x-amzn-ErrorType` (`Type:extra`). */
export function sesError(json: any, headers: Headers) {
  const type = headers.get("x-amzn-ErrorType")?.split(":")[0];
  const message = json?.message ?? json?.Message;
  return [type, message].filter(Boolean).join(": ") || undefined;
}

/** A SigV4-signed request to the SES v2 API. */
export async function sesRequest(config: Config, method: string, path: string, body?: string, now?: Date) {
  const url = new URL(`${sesBase(config.region)}${path}`);
  const headers = await signAwsRequest(
    { method, url, headers: body === undefined ? {} : { "content-type": "application/json" }, body },
    { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    { region: config.region, service: "ses" },
    now,
  );
  return asProviderCall(() => outboundFetch(url, { method, headers, body }));
}

export const amazonSes: Channel<Config> = {
  type: "amazon_ses",
  config: Config,
  secretFields: ["secretAccessKey"],
  urlFields: {},
  async test(config, context) {
    // GetAccount: the account's sending status; needs only valid credentials with SES access.
    const response = await sesRequest(config, "GET", "/v2/email/account", undefined, context.now);
    expectSuccess(response, (json) => sesError(json, response.headers));
  },
  // One request per member, at most once each (see deliverMember): small chunks.
  chunkSize: 25,
  async deliverMember(config, member, batch, context) {
    const values = templateValues(member, batch);
    const body = JSON.stringify({
      FromEmailAddress: config.fromEmail,
      Destination: { ToAddresses: [member.email] },
      Content: { Simple: { Subject: { Data: renderTemplate(batch.message?.subject ?? "", values) }, Body: { Text: { Data: renderTemplate(batch.message?.body ?? "", values) } } } },
    });
    const response = await sesRequest(config, "POST", "/v2/email/outbound-emails", body, context.now);
    expectSuccess(response, (json) => sesError(json, response.headers));
  },
};
