import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { publicOrganization, requireMembership } from "../../services/organizations";
import { planOf } from "../../services/quotas";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { Organization } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}",
  operationId: "getOrganization",
  tags: ["Organizations"],
  summary: "One organization",
  ...auth.session(),
  request: { params: OrganizationIdParam },
  responses: { 200: jsonResponse(Organization, "The organization"), ...authErrorResponses },
});

export function registerGetOrganization(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { organization, role } = await requireMembership(db, sessionOf(c).user.id, c.req.valid("param").orgId);
    return c.json(publicOrganization({ ...organization, plan: await planOf(db, organization.id) }, role), 200);
  });
}
