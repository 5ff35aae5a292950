import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { updateBillingDetails } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { BillingDetails, BillingDetailsBody, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "put",
  path: "/{orgId}/billing",
  operationId: "updateBillingDetails",
  tags: ["Billing"],
  summary: "Replace the billing details; synced to the Stripe customer",
  description: "Owners and admins. Stripe is updated first, so a detail Stripe refuses changes nothing.",
  ...auth.session(),
  request: { params: OrganizationIdParam, body: jsonBody(BillingDetailsBody) },
  responses: {
    200: jsonResponse(BillingDetails, "Saved"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerPutBilling(app: Router) {
  app.openapi(route, async (c) => {
    const { db, d1, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    const body = c.req.valid("json");
    const details = { name: body.name, email: body.email ?? null, tax_id: body.tax_id ?? null, address: body.address ?? null };
    return c.json(await updateBillingDetails(c.env, db, d1, organization, details), 200);
  });
}
