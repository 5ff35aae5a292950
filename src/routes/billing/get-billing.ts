import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { billingDetailsOf } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { BillingDetails } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/billing",
  operationId: "getBillingDetails",
  tags: ["Billing"],
  summary: "Billing details (name, email, tax id, address)",
  description: "Owners and admins. The details as last saved (and synced to Stripe).",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: { 200: jsonResponse(BillingDetails, "The billing details"), ...authErrorResponses },
});

export function registerGetBilling(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await billingDetailsOf(db, organization.id), 200);
  });
}
