import { z } from "@hono/zod-openapi";
import { DisplayName, Timestamp } from "../schemas";

export const Email = z.email().max(254).openapi({ example: "ada@example.com" });

export const SignUpBody = z
  .object({
    name: DisplayName().openapi({ example: "Ada Lovelace" }),
    email: Email,
    password: z.string().min(8).max(128).openapi({ example: "correct horse battery" }),
  })
  .openapi("SignUpRequest");

export const SignInBody = z
  .object({ email: Email, password: z.string().min(1).max(128) })
  .openapi("SignInRequest");

export const User = z
  .object({ id: z.string(), name: z.string(), email: z.string(), createdAt: Timestamp })
  .openapi("User");

export const AuthResponse = z
  .object({
    token: z.string().openapi({ description: "Session JWT: send as `Authorization: Bearer <token>` (also set as an HttpOnly cookie)" }),
    user: User,
  })
  .openapi("AuthResponse");

export const Session = z
  .object({ id: z.string(), activeOrganizationId: z.string().nullable(), expiresAt: Timestamp, createdAt: Timestamp })
  .openapi("Session");

export const SessionResponse = z.object({ session: Session, user: User }).openapi("SessionResponse");

export const SetActiveBody = z.object({ organizationId: z.string().min(1).max(64) }).openapi("SetActiveOrganizationRequest");

export const SignOutResponse = z.object({ success: z.literal(true) }).openapi("SignOutResponse");
