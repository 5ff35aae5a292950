import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { revokeSession } from "../../services/sessions";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { SignOutResponse } from "./schema";
import { clearSessionCookie } from "./session-cookie";

const route = createRoute({
  method: "post",
  path: "/sign-out",
  operationId: "signOut",
  tags: ["Auth"],
  summary: "Revoke the current session",
  description: "The token stops working at once, on every device that holds it.",
  ...auth.session(),
  responses: { 200: jsonResponse(SignOutResponse, "Signed out"), ...authErrorResponses },
});

export function registerSignOut(app: Router) {
  app.openapi(route, async (c) => {
    await revokeSession(database(c.env.DB), sessionOf(c).session.id);
    clearSessionCookie(c);
    return c.json({ success: true as const }, 200);
  });
}
