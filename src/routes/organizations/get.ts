import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { authenticate, sessionOf } from "../../middleware/auth";
import { publicOrganization, requireMembership } from "../../services/organizations";
import { security, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { Organization } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}",
  tags: ["Organizations"],
  summary: "One organization",
  security: security.session,
  middleware: [authenticate()] as const,
  request: { params: OrganizationIdParam },
  responses: { 200: jsonResponse(Organization, "The organization"), ...authErrorResponses },
});

export function registerGetOrganization(app: Router) {
  app.openapi(route, async (c) => {
    const { organization, role } = await requireMembership(database(c.env.DB), sessionOf(c).user.id, c.req.valid("param").orgId);
    return c.json(publicOrganization(organization, role), 200);
  });
}
