import { asc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { projects, type MemberRole } from "../db/schema";
import { ApiError } from "../errors";
import { newProjectId } from "../lib/ids";
import type { Principal } from "../middleware/auth";
import { requireMembership } from "./organizations";

export type ProjectRecord = typeof projects.$inferSelect;

export function publicProject(project: ProjectRecord) {
  return {
    id: project.id,
    organizationId: project.organizationId,
    name: project.name,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}

export async function createProject(db: Database, organizationId: string, name: string) {
  const now = new Date();
  const project: ProjectRecord = { id: newProjectId(), organizationId, name: name.trim(), createdAt: now, updatedAt: now, purchasesVersion: 0, customersVersion: 0, segmentsVersion: 0 };
  await db.insert(projects).values(project);
  return project;
}

export async function listProjects(db: Database, organizationId: string) {
  return db.select().from(projects).where(eq(projects.organizationId, organizationId)).orderBy(asc(projects.createdAt)).all();
}

/**
 * The project a caller may act on. An API key reaches only its own project: any other id, existing or
 * not, is 403 (project mismatch, as the seed specifies). A session reaches projects of organizations it
 * belongs to; anything else is 404. `roles` narrows which members may act.
 */
export async function projectForPrincipal(
  db: Database,
  principal: Principal,
  projectId: string,
  roles?: readonly MemberRole[],
): Promise<ProjectRecord> {
  if (principal.kind === "apiKey") {
    if (principal.projectId !== projectId) throw new ApiError("project_mismatch");
    if (roles) throw new ApiError("session_required");
  }
  const project = await db.select().from(projects).where(eq(projects.id, projectId)).get();
  if (!project) throw new ApiError("not_found");
  if (principal.kind === "session") await requireMembership(db, principal.user.id, project.organizationId, roles);
  return project;
}

export async function renameProject(db: Database, project: ProjectRecord, name: string) {
  return (await db
    .update(projects)
    .set({ name: name.trim(), updatedAt: new Date() })
    .where(eq(projects.id, project.id))
    .returning()
    .get())!;
}

export async function deleteProject(db: Database, project: ProjectRecord) {
  // API keys and, later, everything else of the project go with it (ON DELETE CASCADE).
  await db.delete(projects).where(eq(projects.id, project.id));
}
