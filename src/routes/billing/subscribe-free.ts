import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { subscribeFree } from "../../services/subscriptions";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { Subscription } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/subscribe-free",
  operationId: "subscribeFree",
  tags: ["Billing"],
  summary: "Choose the free plan (no Stripe checkout)",
  description: "Owners and admins. Works without Stripe configured.",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: {
    200: jsonResponse(Subscription, "On the free plan"),
    409: errorResponse("Already on free, or on a paid plan that is not canceled (`already_subscribed`)"),
    ...authErrorResponses,
  },
});

export function registerSubscribeFree(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await subscribeFree(db, organization.id), 200);
  });
}
