import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { publicOrganization, requireMembership } from "../../services/organizations";
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
    const { organization, role } = await requireMembership(database(c.env.DB), sessionOf(c).user.id, c.req.valid("param").orgId);
    return c.json(publicOrganization(organization, role), 200);
  });
}
