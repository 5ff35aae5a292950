import { createRoute } from "@hono/zod-openapi";
import { config } from "../../env";
import { commonErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { organizationsOf } from "../../services/organizations";
import { openSession, publicUser } from "../../services/sessions";
import { authenticateUser, normalizeEmail } from "../../services/users";
import { takeAttempt } from "../../middleware/rate-limit";
import { ApiError } from "../../errors";
import type { Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { AuthResponse, SignInBody } from "./schema";
import { setSessionCookie } from "./session-cookie";

const route = createRoute({
  method: "post",
  path: "/sign-in/email",
  operationId: "signInEmail",
  tags: ["Auth"],
  summary: "Sign in with email and password",
  description:
    "Opens a session whose active organization is the user's first one, if any. After 10 failed sign-ins for an email " +
    "within 15 minutes, that email is refused with 429 `rate_limited` (right password or not) until the oldest failure " +
    "is 15 minutes old, whether or not an account has that email.",
  request: { body: jsonBody(SignInBody) },
  responses: {
    200: jsonResponse(AuthResponse, "Signed in"),
    401: errorResponse("Wrong email or password (`invalid_credentials`)"),
    ...commonErrorResponses,
  },
});

export function registerSignIn(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { email, password } = c.req.valid("json");
    // The attempt is counted before the password is checked, so concurrent guesses cannot overshoot.
    const attempt = await takeAttempt(c, `sign-in:${normalizeEmail(email)}`, config(c.env).signInFailureLimit);
    const user = await authenticateUser(db, email, password).catch((error: unknown) => {
      if (!(error instanceof ApiError && error.code === "invalid_credentials")) attempt.release();
      throw error;
    });
    attempt.release();
    const [first] = (await organizationsOf(db, user.id, { page: 1, limit: 1 })).items;
    const { token, session } = await openSession(
      db,
      c.env.JWT_SECRET,
      user.id,
      first?.organization.id ?? null,
      config(c.env).sessionTtlSeconds,
    );
    setSessionCookie(c, token, session);
    return c.json({ token, user: publicUser(user) }, 200);
  });
}
