import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { createPortalSession } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization, returnUrl } from "./manager";
import { PortalSession, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/billing-portal",
  operationId: "createBillingPortalSession",
  tags: ["Billing"],
  summary: "Open a Stripe Billing Portal session",
  description: "Owners and admins. Plan changes, cards and invoices, self-serve on Stripe.",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: {
    200: jsonResponse(PortalSession, "Redirect the user to `url`"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerBillingPortal(app: Router) {
  app.openapi(route, async (c) => {
    const { db, d1, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await createPortalSession(c.env, db, d1, organization, returnUrl(c)), 200);
  });
}
