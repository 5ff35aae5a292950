import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { organizationsOf, publicOrganization } from "../../services/organizations";
import { planOf } from "../../services/quotas";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery } from "../schemas";
import { OrganizationList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  operationId: "listOrganizations",
  tags: ["Organizations"],
  summary: "Organizations the caller belongs to",
  ...auth.session(),
  request: { query: PageQuery },
  responses: { 200: jsonResponse(OrganizationList, "The caller's organizations, oldest first"), ...authErrorResponses },
});

export function registerListOrganizations(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const page = await organizationsOf(db, sessionOf(c).user.id, c.req.valid("query"));
    const organizations = await Promise.all(page.items.map(async (row) => publicOrganization({ ...row.organization, plan: await planOf(db, row.organization.id) }, row.role)));
    return c.json({ organizations, total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
