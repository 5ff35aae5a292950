import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { requireMembership } from "../../services/organizations";
import { setActiveOrganization } from "../../services/sessions";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { SessionResponse, SetActiveBody } from "./schema";
import { publicSession } from "./session-cookie";

const route = createRoute({
  method: "post",
  path: "/organization/set-active",
  operationId: "setActiveOrganization",
  tags: ["Auth"],
  summary: "Choose the session's active organization",
  description: "Takes effect on the same token: the active organization lives in the server-side session.",
  ...auth.session(),
  request: { body: jsonBody(SetActiveBody) },
  responses: { 200: jsonResponse(SessionResponse, "The updated session"), ...authErrorResponses },
});

export function registerSetActiveOrganization(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { session, user } = sessionOf(c);
    const { organizationId } = c.req.valid("json");
    await requireMembership(db, user.id, organizationId);
    await setActiveOrganization(db, session.id, organizationId);
    return c.json({ session: publicSession({ ...session, activeOrganizationId: organizationId }), user }, 200);
  });
}
