import { createRoute } from "@hono/zod-openapi";
import { config } from "../../env";
import { commonErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { isUniqueViolation } from "../../db/errors";
import { insertSession, issueSession, publicUser } from "../../services/sessions";
import { insertUser, newUser } from "../../services/users";
import { ApiError } from "../../errors";
import type { Router } from "../router";
import { createdResponse, jsonBody } from "../schemas";
import { AuthResponse, SignUpBody } from "./schema";
import { setSessionCookie } from "./session-cookie";

const route = createRoute({
  method: "post",
  path: "/sign-up/email",
  operationId: "signUpEmail",
  tags: ["Auth"],
  summary: "Create an account and sign in",
  request: { body: jsonBody(SignUpBody) },
  responses: {
    201: createdResponse(AuthResponse, "Account created; the session token is returned and set as a cookie"),
    409: errorResponse("Email already registered (`email_taken`)"),
    ...commonErrorResponses,
  },
});

export function registerSignUp(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const user = await newUser(db, c.req.valid("json"));
    const { token, session } = await issueSession(c.env.JWT_SECRET, user.id, null, config(c.env).sessionTtlSeconds);
    try {
      await db.batch([insertUser(db, user), insertSession(db, session)]);
    } catch (error) {
      // The unique index settles a race between two sign-ups with the same email.
      if (isUniqueViolation(error)) throw new ApiError("email_taken");
      throw error;
    }
    setSessionCookie(c, token, session);
    // The account's own view is its session.
    c.header("Location", "/api/auth/session");
    return c.json({ token, user: publicUser(user) }, 201);
  });
}
