import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { syncSubscriptions } from "../../services/subscriptions";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { Subscription, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/sync-subscription",
  operationId: "syncSubscription",
  tags: ["Billing"],
  summary: "Pull the subscription from Stripe and store it",
  description: "Owners and admins. For when a webhook was missed; webhooks older than the sync change nothing after it.",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: {
    200: jsonResponse(Subscription, "The subscription as Stripe has it"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerSyncSubscription(app: Router) {
  app.openapi(route, async (c) => {
    const { db, d1, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await syncSubscriptions(c.env, db, d1, organization.id), 200);
  });
}
