import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { sessionOf } from "../../middleware/auth";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { SessionResponse } from "./schema";
import { publicSession } from "./session-cookie";

const route = createRoute({
  method: "get",
  path: "/session",
  operationId: "getSession",
  tags: ["Auth"],
  summary: "The current session and user",
  ...auth.session(),
  responses: { 200: jsonResponse(SessionResponse, "The session"), ...authErrorResponses },
});

export function registerGetSession(app: Router) {
  app.openapi(route, (c) => {
    const { session, user } = sessionOf(c);
    return c.json({ session: publicSession(session), user }, 200);
  });
}
