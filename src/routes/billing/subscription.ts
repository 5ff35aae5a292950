import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { subscriptionOf } from "../../services/subscriptions";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { Subscription } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/subscription",
  operationId: "getSubscription",
  tags: ["Billing"],
  summary: "The organization's subscription",
  description: "Owners and admins. Works without Stripe configured (the stored state).",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: { 200: jsonResponse(Subscription, "Plan, interval, status and period"), ...authErrorResponses },
});

export function registerGetSubscription(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await subscriptionOf(db, organization.id), 200);
  });
}
