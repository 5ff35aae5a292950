import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { createCheckout } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization, returnUrl } from "./manager";
import { CheckoutBody, CheckoutSession, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/checkout",
  operationId: "createCheckoutSession",
  tags: ["Billing"],
  summary: "Start a Stripe Checkout for a paid plan",
  description:
    "Owners and admins. Returns the URL of a Stripe Checkout Session (subscription mode) for the price with lookup key `segmento_<plan>_<interval>`; the trial, if any, is the price's own. Enterprise is sold by contact: 409 `contact_sales`, write to POST /api/contact.",
  ...auth.session(),
  request: { params: OrganizationIdParam, body: jsonBody(CheckoutBody) },
  responses: {
    200: jsonResponse(CheckoutSession, "Redirect the user to `url`"),
    409: errorResponse("Enterprise (`contact_sales`), or a paid subscription is already live (`already_subscribed`): change plans in the Billing Portal"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerCheckout(app: Router) {
  app.openapi(route, async (c) => {
    const { db, d1, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await createCheckout(c.env, db, d1, organization, c.req.valid("json"), returnUrl(c)), 200);
  });
}
