import { z } from "@hono/zod-openapi";
import { outboundFetch } from "../outbound";
import { asProviderCall, expectSuccess, type Channel } from "./channel";

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
  async deliver(config, batch) {
    if (batch.added.length === 0) return;
    const body = JSON.stringify({ ...(config.listId && { list_ids: [config.listId] }), contacts: batch.added.map((m) => ({ email: m.email })) });
    const response = await asProviderCall(() =>
      outboundFetch(`${SENDGRID_API}/v3/marketing/contacts`, { method: "PUT", headers: { Authorization: `Bearer ${config.apiKey}`, "Content-Type": "application/json" }, body }),
    );
    expectSuccess(response, sendgridError);
  },
};
