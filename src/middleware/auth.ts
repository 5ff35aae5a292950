import { createMiddleware } from "hono/factory";
import { getCookie } from "hono/cookie";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { meterRequest as meter } from "../analytics/request-meter";
import { database } from "../db/client";
import { ApiError } from "../errors";
import type { Principal, SessionPrincipal } from "../services/access";
import { looksLikeApiKey, verifyApiKey, type VerifiedApiKey } from "../services/api-keys";
import {
  loadSession,
  SESSION_COOKIE,
  publicUser,
  type SessionClaims,
  verifySessionToken,
} from "../services/sessions";

/**
 * What the request's credential turned out to be, resolved once per request (by the rate limiter,
 * which keys on it, or by `authenticate`, whichever runs first): a project API key, a session token
 * we signed (not yet checked against D1), a credential that authenticates no one, or none at all.
 */
export type Credential =
  | { kind: "none" }
  | { kind: "invalid"; error: ApiError }
  | { kind: "apiKey"; key: VerifiedApiKey }
  | { kind: "session"; claims: SessionClaims };

export type AuthVariables = { principal: Principal; credential: Credential };

type Accepts = { session?: boolean; apiKey?: boolean };

/**
 * Resolves the caller once and puts it on the context as `principal`: a user session (Bearer JWT or
 * the session cookie) or a project API key (Bearer sk_live_…). Routes say which kinds they accept;
 * a valid API key on a session-only route is refused with 403, a bad credential with 401.
 */
export function authenticate(accepts: Accepts = { session: true }) {
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const credential = await resolveCredential(c);
    if (credential.kind === "none") throw new ApiError("unauthorized");
    if (credential.kind === "invalid") throw credential.error;

    if (credential.kind === "apiKey") {
      const { key } = credential;
      if (!accepts.apiKey) throw new ApiError("session_required");
      c.set("principal", { kind: "apiKey", apiKeyId: key.id, projectId: key.projectId, organizationId: key.organizationId, project: key.project });
    } else {
      const { session, user } = await loadSession(database(c.env.DB), credential.claims);
      if (!accepts.session) throw new ApiError("forbidden");
      c.set("principal", { kind: "session", session, user: publicUser(user) });
    }
    await next();
    meterRequest(c);
  });
}

/**
 * The request's credential (Bearer header, any case and whitespace, or the session cookie) resolved
 * to the key or session it names; remembered on the context so it is resolved once per request.
 */
export async function resolveCredential(c: Context<AppEnv, any, any>): Promise<Credential> {
  let credential = c.get("credential");
  if (credential) return credential;
  try {
    const bearer = bearerToken(c);
    const cookie = bearer === undefined ? getCookie(c, SESSION_COOKIE) : undefined;
    const raw = bearer ?? cookie;
    if (!raw) credential = { kind: "none" };
    // The cookie carries sessions only: a key there (planted by a page, or pasted by mistake) authenticates no one.
    else if (cookie !== undefined && looksLikeApiKey(cookie)) throw new ApiError("unauthorized", { reason: "API keys are accepted only in the Authorization header (Bearer sk_live_…), not in a cookie" });
    else if (looksLikeApiKey(raw)) credential = { kind: "apiKey", key: await verifyApiKey(database(c.env.DB), raw, (p) => c.executionCtx.waitUntil(p)) };
    else credential = { kind: "session", claims: await verifySessionToken(c.env.JWT_SECRET, raw) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    credential = { kind: "invalid", error };
  }
  c.set("credential", credential);
  return credential;
}

/** One `api_request` usage event per authenticated call, written after the response is on its way. */
function meterRequest(c: Context<AppEnv>) {
  const principal = c.get("principal");
  const organizationId = principal?.kind === "apiKey" ? principal.organizationId : principal?.session.activeOrganizationId;
  if (!principal || !organizationId) return;
  meter(c.env, c.executionCtx, {
    organizationId,
    type: "api_request",
    projectId: principal.kind === "apiKey" ? principal.projectId : null,
    apiKeyId: principal.kind === "apiKey" ? principal.apiKeyId : null,
    detail: `${c.req.method} ${c.req.routePath}`,
    value: 1,
  });
}

function bearerToken(c: Context): string | undefined {
  const header = c.req.header("Authorization");
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  // A malformed Authorization header is a bad credential, not an absent one.
  if (!match) throw new ApiError("unauthorized");
  return match[1];
}

export function principalOf(c: Context<AppEnv, any, any>): Principal {
  const principal = c.get("principal");
  if (!principal) throw new Error("authenticate() must run before principalOf()");
  return principal;
}

export function sessionOf(c: Context<AppEnv, any, any>): SessionPrincipal {
  const principal = principalOf(c);
  if (principal.kind !== "session") throw new ApiError("session_required");
  return principal;
}
