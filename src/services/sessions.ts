import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { sessions, users } from "../db/schema";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";

export const SESSION_COOKIE = "segmento_session";
const ALGORITHM = "HS256";

export type SessionRecord = typeof sessions.$inferSelect;
export type PublicUser = { id: string; name: string; email: string; createdAt: string };

export function publicUser(user: typeof users.$inferSelect): PublicUser {
  return { id: user.id, name: user.name, email: user.email, createdAt: user.createdAt.toISOString() };
}

function signingKey(secret: string | undefined): Uint8Array {
  // A short or missing secret is a deployment error, not something a caller can fix.
  if (!secret || secret.length < 32) throw new Error("JWT_SECRET is missing or shorter than 32 characters");
  return new TextEncoder().encode(secret);
}

/** Signs the JWT for a new session without writing it; `insertSession` stores it. */
export async function issueSession(
  secret: string,
  userId: string,
  activeOrganizationId: string | null,
  ttlSeconds: number,
): Promise<{ token: string; session: SessionRecord }> {
  const now = new Date();
  const session: SessionRecord = {
    id: newId(),
    userId,
    activeOrganizationId,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
    revokedAt: null,
    createdAt: now,
  };
  const token = await new SignJWT({ sid: session.id })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(session.expiresAt.getTime() / 1000))
    .sign(signingKey(secret));
  return { token, session };
}

export function insertSession(db: Database, session: SessionRecord) {
  return db.insert(sessions).values(session);
}

/** Opens a server-side session and signs the JWT that names it (signed first: a bad secret writes nothing). */
export async function openSession(
  db: Database,
  secret: string,
  userId: string,
  activeOrganizationId: string | null,
  ttlSeconds: number,
) {
  const issued = await issueSession(secret, userId, activeOrganizationId, ttlSeconds);
  await insertSession(db, issued.session);
  return issued;
}

/** Who a session token names, once its signature, algorithm and expiry are verified. */
export type SessionClaims = { userId: string; sessionId: string };

/**
 * Verifies signature, algorithm and expiry without touching D1: enough to know the token is one we
 * issued (the rate limiter keys on its session id); `loadSession` then checks it is still open.
 */
export async function verifySessionToken(secret: string, token: string): Promise<SessionClaims> {
  let claims: { sub?: string; sid?: unknown };
  try {
    ({ payload: claims } = await jwtVerify(token, signingKey(secret), {
      algorithms: [ALGORITHM],
      requiredClaims: ["exp", "sub", "sid"],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw new ApiError("session_expired");
    throw error;
  }
  if (typeof claims.sid !== "string" || typeof claims.sub !== "string") throw new ApiError("session_expired");
  return { userId: claims.sub, sessionId: claims.sid };
}

/** The open (not revoked, not expired) session a verified token names, with its user. */
export async function loadSession(db: Database, claims: SessionClaims) {
  const row = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, claims.sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())))
    .get();
  if (!row || row.user.id !== claims.userId) throw new ApiError("session_expired");
  return row;
}

export async function revokeSession(db: Database, sessionId: string) {
  await db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, sessionId));
}

export async function setActiveOrganization(db: Database, sessionId: string, organizationId: string | null) {
  await db.update(sessions).set({ activeOrganizationId: organizationId }).where(eq(sessions.id, sessionId));
}
