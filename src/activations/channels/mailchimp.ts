import { z } from "@hono/zod-openapi";
import { toHex } from "../../lib/crypto";
import { outboundFetch } from "../outbound";
import { asProviderCall, basicAuth, expectSuccess, ProviderError, retryable, type Channel, type RemovedMember } from "./channel";

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
  sendsRemovals: () => true,
  async deliver(config, batch) {
    const authorization = basicAuth("segmento", config.apiKey);
    if (batch.added.length > 0) {
      const body = JSON.stringify({ members: batch.added.map((m) => ({ email_address: m.email, status: "subscribed" })), update_existing: true });
      // Only the error count and the errors come back, so the answer stays within the read cap.
      const url = `${mailchimpBase(config.apiKey)}/lists/${encodeURIComponent(config.listId)}?fields=error_count,errors.email_address,errors.error`;
      const response = await asProviderCall(() => outboundFetch(url, { method: "POST", headers: { Authorization: authorization, "Content-Type": "application/json" }, body }));
      expectSuccess(response, mailchimpError);
      assertEveryMemberAccepted(response.body, batch.added.length);
    }
    await archiveMembers(config, authorization, batch.removed);
  },
};

/** Mailchimp allows 10 simultaneous connections per key. */
const ARCHIVE_CONCURRENCY = 10;

/**
 * Members who left the segment are archived: DELETE /lists/{list_id}/members/{subscriber_hash}.
 * Why archive: the audience mirrors the segment, so someone leaving it should stop receiving its
 * campaigns and stop counting toward the plan's contacts, but nothing about them is theirs to lose:
 * archiving keeps their history and consent and is undone by subscribing them again (the batch
 * subscribe above does it when they come back). Unsubscribing would record an opt-out they never
 * gave (and Mailchimp will not let an API subscribe them again); deleting permanently erases them and
 * blocks re-importing. A member Mailchimp does not have (404) is already off the list. Archiving is
 * idempotent, so a repeated chunk is harmless. The first refusal fails the chunk (a refusal that may
 * pass, 429 or 5xx, only if no other was final).
 */
async function archiveMembers(config: Config, authorization: string, removed: RemovedMember[]) {
  const emails = removed.flatMap((m) => (m.address ? [m.address] : []));
  const refusals: ProviderError[] = [];
  let next = 0;
  const worker = async () => {
    while (next < emails.length && refusals.length === 0) {
      const email = emails[next++]!;
      const url = `${mailchimpBase(config.apiKey)}/lists/${encodeURIComponent(config.listId)}/members/${await subscriberHash(email)}`;
      try {
        const response = await asProviderCall(() => outboundFetch(url, { method: "DELETE", headers: { Authorization: authorization, Accept: "application/json" } }));
        if (response.status !== 404) expectSuccess(response, (json) => [email, mailchimpError(json)].filter(Boolean).join(": "));
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        refusals.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ARCHIVE_CONCURRENCY, emails.length) }, worker));
  if (refusals.length) throw refusals.find((e) => !retryable(e)) ?? refusals[0]!;
}

/** Mailchimp's member id: the MD5 of the lower-cased email (Workers' Web Crypto has MD5). */
export async function subscriberHash(email: string) {
  return toHex(await crypto.subtle.digest("MD5", new TextEncoder().encode(email.toLowerCase())));
}

/**
 * Batch subscribe answers 200 even when it refuses members (an invalid or compliance-blocked address);
 * those come back in `errors`. Such a chunk is not delivered: it fails with the first refusal (not
 * retried, the answer would be the same), and a replay sends it again (update_existing keeps that
 * harmless for the members Mailchimp took).
 */
export function assertEveryMemberAccepted(text: string, sent: number) {
  let answer: { error_count?: number; errors?: Array<{ email_address?: string; error?: string }> };
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ProviderError(200, "Mailchimp's answer could not be read, so which members it took is unknown");
  }
  const refused = answer.error_count ?? answer.errors?.length ?? 0;
  if (refused === 0) return;
  const first = answer.errors?.[0];
  const why = first ? `: ${[first.email_address, first.error].filter(Boolean).join(": ")}` : "";
  throw new ProviderError(200, `Mailchimp refused ${refused} of ${sent} members${why}`.slice(0, 500));
}
