import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { organizationUsage } from "../../services/usage";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { Usage } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/usage",
  operationId: "getOrganizationUsage",
  tags: ["Billing"],
  summary: "Usage against the plan in the current billing period",
  description:
    "Owners and admins. Metering: rows (completed files' rows), profiles (customers), automations (active), modelRuns and genaiOps (this period's counters), storageGb (stored files), teamSeats (members); -1 for unlimited. Per metric, when the limit will be reached at the last 7 days' rate (null if not this period) and the 80%/100% marks crossed this period.",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: { 200: jsonResponse(Usage, "Usage this period"), ...authErrorResponses },
});

export function registerUsage(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await organizationUsage(c.env, db, organization.id), 200);
  });
}
