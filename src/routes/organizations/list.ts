import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { organizationsOf, publicOrganization } from "../../services/organizations";
import { planOf } from "../../services/quotas";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { OrganizationList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["Organizations"],
  summary: "Organizations the caller belongs to",
  ...auth.session(),
  responses: { 200: jsonResponse(OrganizationList, "The caller's organizations, oldest first"), ...authErrorResponses },
});

export function registerListOrganizations(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const rows = await organizationsOf(db, sessionOf(c).user.id);
    const organizations = await Promise.all(rows.map(async (row) => publicOrganization({ ...row.organization, plan: await planOf(db, row.organization.id) }, row.role)));
    return c.json({ organizations }, 200);
  });
}
