import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, type SessionRecord } from "../../services/sessions";

/** The HttpOnly cookie twin of the Bearer token, for browsers. `Secure` whenever served over HTTPS. */
export function setSessionCookie(c: Context, token: string, session: SessionRecord) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(c: Context) {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

export function publicSession(session: SessionRecord) {
  return {
    id: session.id,
    activeOrganizationId: session.activeOrganizationId,
    expiresAt: session.expiresAt.toISOString(),
    createdAt: session.createdAt.toISOString(),
  };
}
