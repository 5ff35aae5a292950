import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { changeMemberRole } from "../../services/members";
import { MANAGERS, requireMembership } from "../../services/organizations";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { ChangeRoleBody, Member, MemberParams } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/{orgId}/members/{userId}",
  operationId: "changeMemberRole",
  tags: ["Members"],
  summary: "Change a member's role",
  description: "Owners and admins only; only an owner may grant or take away `owner`; the last owner keeps it.",
  ...auth.session(),
  request: { params: MemberParams, body: jsonBody(ChangeRoleBody) },
  responses: {
    200: jsonResponse(Member, "Updated"),
    409: errorResponse("Would leave the organization without an owner (`last_owner`)"),
    ...authErrorResponses,
  },
});

export function registerChangeMemberRole(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { orgId, userId } = c.req.valid("param");
    const { role: actorRole } = await requireMembership(db, sessionOf(c).user.id, orgId, MANAGERS);
    return c.json(await changeMemberRole(db, orgId, actorRole, userId, c.req.valid("json").role), 200);
  });
}
