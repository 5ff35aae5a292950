import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { projects } from "../db/schema";
import { ApiError, invalidField } from "../errors";
import type { Principal } from "../middleware/auth";
import { requireMembership } from "./organizations";

export type AnalyticsScope = { organizationId: string; projectId: string | null };

/**
 * What analytics a caller sees: an API key, its project; a session, its active organization, or one
 * project of it when `project_id` is given (a project of another organization is 404).
 */
export async function analyticsScope(db: Database, principal: Principal, projectId?: string): Promise<AnalyticsScope> {
  if (principal.kind === "apiKey") {
    if (projectId && projectId !== principal.projectId) throw new ApiError("project_mismatch");
    return { organizationId: principal.organizationId, projectId: principal.projectId };
  }
  const organizationId = principal.session.activeOrganizationId;
  if (!organizationId) {
    throw invalidField("organization", "no_active_organization", "the session has no active organization; create one or set one active");
  }
  await requireMembership(db, principal.user.id, organizationId);
  if (projectId) {
    const project = await db.select({ id: projects.id }).from(projects).where(and(eq(projects.id, projectId), eq(projects.organizationId, organizationId))).get();
    if (!project) throw new ApiError("not_found");
  }
  return { organizationId, projectId: projectId ?? null };
}

/** SQL matching a scope on a table with organization and project columns (or the project's id). */
export function scopeFilter(scope: AnalyticsScope, projectColumn: string, organizationProjects = `(SELECT id FROM projects WHERE organization_id = ?)`) {
  return scope.projectId
    ? { sql: `${projectColumn} = ?`, params: [scope.projectId] }
    : { sql: `${projectColumn} IN ${organizationProjects}`, params: [scope.organizationId] };
}
