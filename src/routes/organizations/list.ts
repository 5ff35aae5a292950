import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { organizationsOf, publicOrganization } from "../../services/organizations";
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
    const page = await organizationsOf(database(c.env.DB), sessionOf(c).user.id, c.req.valid("query"));
    return c.json({ organizations: page.items.map((row) => publicOrganization(row.organization, row.role)), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
