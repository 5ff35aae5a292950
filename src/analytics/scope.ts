/**
 * The tenant an analytics question is asked about: an organization, narrowed to one of its projects
 * when `projectId` is set. Resolved from the caller by `analyticsScope` (services/access.ts); the
 * analytics layer only reads it.
 */
export type AnalyticsScope = { organizationId: string; projectId: string | null };

/** SQL matching a scope on a table with organization and project columns (or the project's id). */
export function scopeFilter(scope: AnalyticsScope, projectColumn: string, organizationProjects = `(SELECT id FROM projects WHERE organization_id = ?)`) {
  return scope.projectId
    ? { sql: `${projectColumn} = ?`, params: [scope.projectId] }
    : { sql: `${projectColumn} IN ${organizationProjects}`, params: [scope.organizationId] };
}
