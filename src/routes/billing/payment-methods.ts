import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { listPaymentMethods } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { PaymentMethodList, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/payment-methods",
  operationId: "listPaymentMethods",
  tags: ["Billing"],
  summary: "Saved cards",
  description: "Owners and admins. Brand, last 4, expiry, and which card invoices are charged to (`default`).",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: {
    200: jsonResponse(PaymentMethodList, "The saved cards"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerListPaymentMethods(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await listPaymentMethods(c.env, db, organization.id), 200);
  });
}
