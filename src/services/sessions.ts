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

/** Verifies signature, algorithm and expiry, then that the session is still open in D1. */
export async function resolveSession(db: Database, secret: string, token: string) {
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
  if (typeof claims.sid !== "string") throw new ApiError("session_expired");
  const row = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, claims.sid), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())))
    .get();
  if (!row || row.user.id !== claims.sub) throw new ApiError("session_expired");
  return row;
}

export async function revokeSession(db: Database, sessionId: string) {
  await db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, sessionId));
}

export async function setActiveOrganization(db: Database, sessionId: string, organizationId: string | null) {
  await db.update(sessions).set({ activeOrganizationId: organizationId }).where(eq(sessions.id, sessionId));
}
