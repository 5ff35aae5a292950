import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { cancelSubscription } from "../../services/subscriptions";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { Subscription, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/cancel-subscription",
  operationId: "cancelSubscription",
  tags: ["Billing"],
  summary: "Cancel the paid subscription at the end of its period",
  description: "Owners and admins. The plan stays until `current_period_end` (`cancel_at_period_end`); nothing is cut off at once.",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: {
    200: jsonResponse(Subscription, "Cancels at period end"),
    409: errorResponse("No paid subscription to cancel, or it already ends (`nothing_to_cancel`)"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerCancelSubscription(app: Router) {
  app.openapi(route, async (c) => {
    const { db, d1, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await cancelSubscription(c.env, db, d1, organization.id), 200);
  });
}
