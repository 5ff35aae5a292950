import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { removeMember } from "../../services/members";
import { requireMembership } from "../../services/organizations";
import { auth, type Router } from "../router";
import { MemberParams } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/{orgId}/members/{userId}",
  operationId: "removeMember",
  tags: ["Members"],
  summary: "Remove a member, or leave",
  description: "Owners and admins remove members (only an owner removes an owner); any member may remove themself. The last owner cannot leave.",
  ...auth.session(),
  request: { params: MemberParams },
  responses: {
    204: { description: "Removed" },
    409: errorResponse("Would leave the organization without an owner (`last_owner`)"),
    ...authErrorResponses,
  },
});

export function registerRemoveMember(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { orgId, userId } = c.req.valid("param");
    const actorId = sessionOf(c).user.id;
    const { role } = await requireMembership(db, actorId, orgId);
    await removeMember(db, orgId, { userId: actorId, role }, userId);
    return c.body(null, 204);
  });
}
