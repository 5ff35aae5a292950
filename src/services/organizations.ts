import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { members, organizations, type MemberRole } from "../db/schema";
import { isUniqueViolation } from "../db/errors";
import { ApiError } from "../errors";
import { newOrganizationId, randomSuffix } from "../lib/ids";
import { pageOf, type PageRequest } from "./paging";

export type OrganizationRecord = typeof organizations.$inferSelect;

export function publicOrganization(org: OrganizationRecord, role: MemberRole) {
  return { id: org.id, name: org.name, slug: org.slug, plan: org.plan, role, createdAt: org.createdAt.toISOString() };
}

export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return slug || "org";
}

/**
 * Creates the organization with its creator as owner, in one batch so neither exists without the
 * other. A slug derived from the name gets a random suffix when taken (also when a concurrent request
 * takes it first); an explicit slug that is taken is a conflict.
 */
export async function createOrganization(db: Database, ownerId: string, input: { name: string; slug?: string }) {
  const base = input.slug ?? slugify(input.name);
  let slug = input.slug !== undefined || !(await slugExists(db, base)) ? base : `${base}-${randomSuffix()}`;
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    const organization: OrganizationRecord = { id: newOrganizationId(), name: input.name.trim(), slug, plan: "free", createdAt: now };
    try {
      await db.batch([
        db.insert(organizations).values(organization),
        db.insert(members).values({ organizationId: organization.id, userId: ownerId, role: "owner", createdAt: now }),
      ]);
      return organization;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (input.slug !== undefined || attempt >= 3) throw new ApiError("slug_taken");
      slug = `${base}-${randomSuffix()}`;
    }
  }
}

async function slugExists(db: Database, slug: string) {
  return (await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slug)).get()) !== undefined;
}

export async function organizationsOf(db: Database, userId: string, page: PageRequest) {
  const where = eq(members.userId, userId);
  return pageOf(
    page,
    (limit, offset) =>
      db
        .select({ organization: organizations, role: members.role })
        .from(members)
        .innerJoin(organizations, eq(organizations.id, members.organizationId))
        .where(where)
        .orderBy(asc(organizations.createdAt), asc(organizations.id))
        .limit(limit)
        .offset(offset)
        .all(),
    () => db.$count(members, where),
  );
}

/**
 * The organization and the caller's role in it. Not a member: 404, so another tenant's ids cannot be
 * told apart from ids that do not exist. A member without one of `roles`: 403.
 */
export async function requireMembership(db: Database, userId: string, organizationId: string, roles?: readonly MemberRole[]) {
  const row = await db
    .select({ organization: organizations, role: members.role })
    .from(members)
    .innerJoin(organizations, eq(organizations.id, members.organizationId))
    .where(and(eq(members.organizationId, organizationId), eq(members.userId, userId)))
    .get();
  if (!row) throw new ApiError("not_found");
  if (roles && !roles.includes(row.role)) throw new ApiError("insufficient_role");
  return row;
}

export const MANAGERS: readonly MemberRole[] = ["owner", "admin"];
