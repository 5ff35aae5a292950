import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { addMember } from "../../services/members";
import { MANAGERS, requireMembership } from "../../services/organizations";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, OrganizationIdParam } from "../schemas";
import { AddMemberBody, Member } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{orgId}/members",
  operationId: "addMember",
  tags: ["Members"],
  summary: "Add an existing user to the organization",
  description: "Owners and admins only; only an owner may add another owner. Counts against the plan's team seats.",
  ...auth.session(),
  request: { params: OrganizationIdParam, body: jsonBody(AddMemberBody) },
  responses: {
    201: createdResponse(Member, "Added"),
    409: errorResponse("Already a member (`already_member`)"),
    ...authErrorResponses,
    429: errorResponse("Team seats of the plan used up (`quota_exceeded`) or rate limited (`rate_limited`)"),
  },
});

export function registerAddMember(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { organization, role } = await requireMembership(db, sessionOf(c).user.id, c.req.valid("param").orgId, MANAGERS);
    const member = await addMember(db, organization, role, c.req.valid("json"));
    c.header("Location", `/api/organizations/${organization.id}/members/${member.userId}`);
    return c.json(member, 201);
  });
}
