import { and, eq } from "drizzle-orm";
import type { AnalyticsScope } from "../analytics/scope";
import type { Database } from "../db/client";
import { projects, type MemberRole } from "../db/schema";
import { ApiError, invalidField, type ErrorCode } from "../errors";
import type { VerifiedApiKey } from "./api-keys";
import { requireMembership } from "./organizations";
import type { ProjectRecord } from "./projects";
import type { PublicUser, SessionRecord } from "./sessions";

/** Who is calling, as `authenticate` (middleware/auth.ts) resolved it: a user's session or a project API key. */
export type SessionPrincipal = {
  kind: "session";
  user: PublicUser;
  session: SessionRecord;
};

export type ApiKeyPrincipal = {
  kind: "apiKey";
  apiKeyId: string;
  projectId: string;
  organizationId: string;
  /** the key's project as read with the key (at most API_KEY_CACHE_TTL_MS old) */
  project: VerifiedApiKey["project"];
};

export type Principal = SessionPrincipal | ApiKeyPrincipal;

/**
 * The one rule every check below applies: an API key reaches only its own project, and never a
 * members-only action (`roles`); a session reaches what belongs to organizations it is a member of
 * (in one of `roles`, when given). The checks differ only in what a key on another project hears:
 * 403 `project_mismatch` when the caller named the project, 404 when the resource was found by its own
 * id (so another tenant's ids cannot be told from ids that do not exist).
 */
async function requireReach(
  db: Database,
  principal: Principal,
  owner: { organizationId: string; projectId?: string },
  otherProject: ErrorCode,
  roles?: readonly MemberRole[],
) {
  if (principal.kind === "apiKey") {
    if (owner.projectId !== undefined && owner.projectId !== principal.projectId) throw new ApiError(otherProject);
    if (roles) throw new ApiError("session_required");
    return;
  }
  await requireMembership(db, principal.user.id, owner.organizationId, roles);
}

/**
 * The project a caller may act on. An API key reaches only its own project: any other id, existing or
 * not, is 403 (project mismatch: the caller named a project its key does not belong to). A session
 * reaches projects of organizations it belongs to; anything else is 404. `roles` narrows which members
 * may act. For a key, the project is the one read with the key (API_KEY_CACHE_TTL_MS at most: a rename
 * through another isolate shows within it); read live columns such as purchases_version from D1, not
 * from this record.
 */
export async function projectForPrincipal(
  db: Database,
  principal: Principal,
  projectId: string,
  roles?: readonly MemberRole[],
): Promise<ProjectRecord> {
  if (principal.kind === "apiKey") {
    await requireReach(db, principal, { organizationId: principal.organizationId, projectId }, "project_mismatch", roles);
    // Read with the key: the hot path of a key-authenticated call.
    return principal.project;
  }
  const project = await db.select().from(projects).where(eq(projects.id, projectId)).get();
  if (!project) throw new ApiError("not_found");
  await requireReach(db, principal, { organizationId: project.organizationId, projectId: project.id }, "project_mismatch", roles);
  return project;
}

/**
 * Whether the caller may see a resource of a project (a file, job, segment or customer, found by its
 * own id). Anything it may not see is 404, as is a resource that does not exist.
 */
export async function assertCanSee(db: Database, principal: Principal, owner: { projectId: string; organizationId: string } | null | undefined) {
  if (!owner) throw new ApiError("not_found");
  await requireReach(db, principal, owner, "not_found");
}

/**
 * What analytics a caller sees: an API key, its project (naming another project is 403); a session,
 * its active organization (400 without one), or one project of it when `project_id` is given (a
 * project of another organization is 404).
 */
export async function analyticsScope(db: Database, principal: Principal, projectId?: string): Promise<AnalyticsScope> {
  if (principal.kind === "apiKey") {
    await requireReach(db, principal, { organizationId: principal.organizationId, projectId: projectId || undefined }, "project_mismatch");
    return { organizationId: principal.organizationId, projectId: principal.projectId };
  }
  const organizationId = principal.session.activeOrganizationId;
  if (!organizationId) {
    throw invalidField("organization", "no_active_organization", "the session has no active organization; create one or set one active");
  }
  await requireReach(db, principal, { organizationId }, "not_found");
  if (projectId) {
    const project = await db.select({ id: projects.id }).from(projects).where(and(eq(projects.id, projectId), eq(projects.organizationId, organizationId))).get();
    if (!project) throw new ApiError("not_found");
  }
  return { organizationId, projectId: projectId ?? null };
}

/** As assertCanSee; a session must also hold one of `roles` when given (403 insufficient_role). */
export async function assertCanAct(db: Database, principal: Principal, owner: { projectId: string; organizationId: string } | null | undefined, roles?: readonly MemberRole[]) {
  if (!owner) throw new ApiError("not_found");
  await requireReach(db, principal, owner, "not_found", roles);
}
