import type { Database } from "../db/client";
import { ApiError } from "../errors";
import type { MemberRole } from "../db/schema";
import type { Principal } from "../middleware/auth";
import { requireMembership } from "./organizations";

/**
 * Whether the caller may see a resource of a project (a file, job, segment or customer, found by its
 * own id). An API key sees only its own project's; a session, its organizations'. Anything else is
 * 404, so ids of other tenants cannot be told from ids that do not exist.
 */
export async function assertCanSee(db: Database, principal: Principal, owner: { projectId: string; organizationId: string } | null | undefined) {
  if (!owner) throw new ApiError("not_found");
  if (principal.kind === "apiKey") {
    if (principal.projectId !== owner.projectId) throw new ApiError("not_found");
  } else await requireMembership(db, principal.user.id, owner.organizationId);
}

/** As assertCanSee; a session must also hold one of `roles` when given (403 insufficient_role). */
export async function assertCanAct(db: Database, principal: Principal, owner: { projectId: string; organizationId: string } | null | undefined, roles?: readonly MemberRole[]) {
  if (principal.kind === "session" && owner) await requireMembership(db, principal.user.id, owner.organizationId, roles);
  else await assertCanSee(db, principal, owner);
}
