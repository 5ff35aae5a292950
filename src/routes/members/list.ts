import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { listMembers } from "../../services/members";
import { requireMembership } from "../../services/organizations";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam, PageQuery } from "../schemas";
import { MemberList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/members",
  operationId: "listMembers",
  tags: ["Members"],
  summary: "Members of an organization",
  ...auth.session(),
  request: { params: OrganizationIdParam, query: PageQuery },
  responses: { 200: jsonResponse(MemberList, "Members, oldest first"), ...authErrorResponses },
});

export function registerListMembers(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { orgId } = c.req.valid("param");
    await requireMembership(db, sessionOf(c).user.id, orgId);
    const page = await listMembers(db, orgId, c.req.valid("query"));
    return c.json({ members: page.items, total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
