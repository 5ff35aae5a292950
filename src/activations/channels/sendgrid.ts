import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { asProviderCall, expectSuccess, ProviderError, type Channel, type RemovedMember } from "./channel";

const Config = z.strictObject({
  apiKey: z.string().min(10).max(256).openapi({ description: "Secret; [REDACTED] on read" }),
  listId: z.string().uuid().optional().openapi({ description: "Marketing contacts list the members are added to" }),
});
type Config = z.infer<typeof Config>;

export const SENDGRID_API = "https://api.sendgrid.com";

/** `{"errors":[{"field":…,"message":…}]}` (SendGrid v3). */
export const sendgridError = (json: any) => (Array.isArray(json?.errors) ? json.errors.map((e: any) => e?.message).filter(Boolean).join("; ") : undefined);

export const sendgrid: Channel<Config> = {
  type: "sendgrid",
  config: Config,
  secretFields: ["apiKey"],
  urlFields: {},
  async test(config) {
    // GET /v3/scopes: the key's own permissions; any valid key may read it.
    const response = await asProviderCall(() =>
      outboundFetch(`${SENDGRID_API}/v3/scopes`, { headers: { Authorization: `Bearer ${config.apiKey}`, Accept: "application/json" } }),
    );
    expectSuccess(response, sendgridError);
  },
  // PUT /v3/marketing/contacts takes up to 30,000 contacts; upserts are idempotent by email.
  chunkSize: 1000,
  // Removal takes members off the connector's list (the contacts stay in the account). Without a list
  // the members were only upserted as contacts: deleting those would destroy the tenant's contact data
  // (history, suppressions), so there is nothing to remove and the members who left are only recorded.
  sendsRemovals: (settings) => typeof settings.listId === "string",
  async deliver(config, batch) {
    const headers = { Authorization: `Bearer ${config.apiKey}`, "Content-Type": "application/json" };
    if (batch.added.length > 0) {
      const body = JSON.stringify({ ...(config.listId && { list_ids: [config.listId] }), contacts: batch.added.map((m) => ({ email: m.email })) });
      const response = await asProviderCall(() => outboundFetch(`${SENDGRID_API}/v3/marketing/contacts`, { method: "PUT", headers, body }));
      expectSuccess(response, sendgridError);
    }
    if (config.listId) await removeFromList(config.apiKey, config.listId, batch.removed);
  },
};

/** Get Contacts by Emails and Remove Contacts from a List both take 100 at a time. */
const SENDGRID_PAGE = 100;

/**
 * DELETE /v3/marketing/lists/{id}/contacts takes contact ids, so the members' emails are looked up
 * first (POST /v3/marketing/contacts/search/emails). An email SendGrid does not know has nothing to
 * remove: a 404 (none of them found) or a per-email `error` in a 200 is not a failure. Removing a
 * contact that is no longer on the list changes nothing, so a repeated chunk is harmless.
 */
async function removeFromList(apiKey: string, listId: string, removed: RemovedMember[]) {
  const emails = removed.flatMap((m) => (m.address ? [m.address] : []));
  const headers = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json", Accept: "application/json" };
  for (let i = 0; i < emails.length; i += SENDGRID_PAGE) {
    const found = await asProviderCall(() =>
      // A contact object carries its custom fields: room for 100 of them.
      outboundFetch(`${SENDGRID_API}/v3/marketing/contacts/search/emails`, { method: "POST", headers, body: JSON.stringify({ emails: emails.slice(i, i + SENDGRID_PAGE) }) }, { maxResponseBytes: 2 * 1024 * 1024 }),
    );
    if (found.status === 404) continue;
    expectSuccess(found, sendgridError);
    const ids = contactIds(found.body, found.truncated);
    if (ids.length === 0) continue;
    const url = `${SENDGRID_API}/v3/marketing/lists/${encodeURIComponent(listId)}/contacts?contact_ids=${ids.map(encodeURIComponent).join(",")}`;
    const response = await asProviderCall(() => outboundFetch(url, { method: "DELETE", headers: { Authorization: `Bearer ${apiKey}`, Accept: "application/json" } }));
    expectSuccess(response, sendgridError);
  }
}

/** `{result: {"<email>": {contact: {id, …}} | {error: "contact not found"}}}` → the ids found. */
function contactIds(text: string, truncated: boolean) {
  let answer: { result?: Record<string, { contact?: { id?: unknown } }> };
  try {
    if (truncated) throw new Error("truncated");
    answer = JSON.parse(text);
  } catch {
    throw new ProviderError(200, "SendGrid's answer to the contact lookup could not be read, so which contacts to remove is unknown");
  }
  return Object.values(answer.result ?? {}).flatMap((hit) => (typeof hit?.contact?.id === "string" ? [hit.contact.id] : []));
}
