import { and, asc, count, eq, gt, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { members, users, type MemberRole } from "../db/schema";
import { ApiError } from "../errors";
import type { OrganizationRecord } from "./organizations";
import { planOf, quotaExceeded, quotaLimit } from "./quotas";
import { findUserByEmail } from "./users";
import { pageOf, type PageRequest } from "./paging";

export type MemberView = { userId: string; name: string; email: string; role: MemberRole; createdAt: string };

export async function listMembers(db: Database, organizationId: string, page: PageRequest) {
  const where = eq(members.organizationId, organizationId);
  return pageOf<MemberView>(
    page,
    async (limit, offset) => {
      const rows = await db
        .select({ userId: users.id, name: users.name, email: users.email, role: members.role, createdAt: members.createdAt })
        .from(members)
        .innerJoin(users, eq(users.id, members.userId))
        .where(where)
        .orderBy(asc(members.createdAt), asc(members.userId))
        .limit(limit)
        .offset(offset)
        .all();
      return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
    },
    () => db.$count(members, where),
  );
}

async function findMember(db: Database, organizationId: string, userId: string) {
  const member = await db
    .select({ userId: users.id, name: users.name, email: users.email, role: members.role, createdAt: members.createdAt })
    .from(members)
    .innerJoin(users, eq(users.id, members.userId))
    .where(and(eq(members.organizationId, organizationId), eq(members.userId, userId)))
    .get();
  if (!member) throw new ApiError("not_found");
  return member;
}

/**
 * A condition true unless the row is the organization's only owner. Part of the UPDATE or DELETE itself,
 * so two owners demoting each other at once cannot leave the organization with none.
 */
function keepsAnOwner(organizationId: string) {
  const owners = sql`(SELECT COUNT(*) FROM ${members} WHERE ${members.organizationId} = ${organizationId} AND ${members.role} = 'owner')`;
  return or(sql`${members.role} <> 'owner'`, gt(owners, 1));
}

/** Only an owner may hand out or take away the owner role. */
function assertMayAssign(actorRole: MemberRole, fromRole: MemberRole | null, toRole: MemberRole | null) {
  if (actorRole !== "owner" && (fromRole === "owner" || toRole === "owner")) throw new ApiError("insufficient_role");
}

export async function addMember(
  db: Database,
  organization: OrganizationRecord,
  actorRole: MemberRole,
  input: { email: string; role: MemberRole },
): Promise<MemberView> {
  assertMayAssign(actorRole, null, input.role);
  const user = await findUserByEmail(db, input.email);
  if (!user) throw new ApiError("not_found", { field: "email" });
  const plan = await planOf(db, organization.id);
  const limit = quotaLimit(plan, "teamSeats");
  // The seat count and the insert are one statement, so two invitations racing for the last seat
  // cannot both take it.
  const inserted = await db.$client
    .prepare(
      `INSERT INTO members (organization_id, user_id, role, created_at)
       SELECT ?1, ?2, ?3, ?4 WHERE ?5 IS NULL OR (SELECT COUNT(*) FROM members WHERE organization_id = ?1) < ?5
       ON CONFLICT DO NOTHING RETURNING role, created_at`,
    )
    .bind(organization.id, user.id, input.role, Date.now(), limit)
    .first<{ role: MemberRole; created_at: number }>();
  if (!inserted) {
    const existing = await db.select({ userId: members.userId }).from(members).where(and(eq(members.organizationId, organization.id), eq(members.userId, user.id))).get();
    if (existing) throw new ApiError("already_member");
    const seats = await db.select({ n: count() }).from(members).where(eq(members.organizationId, organization.id)).get();
    throw quotaExceeded("teamSeats", plan, seats?.n ?? 0, 1);
  }
  return { userId: user.id, name: user.name, email: user.email, role: inserted.role, createdAt: new Date(inserted.created_at).toISOString() };
}

export async function changeMemberRole(
  db: Database,
  organizationId: string,
  actorRole: MemberRole,
  userId: string,
  role: MemberRole,
): Promise<MemberView> {
  const member = await findMember(db, organizationId, userId);
  assertMayAssign(actorRole, member.role, role);
  const demotesOwner = member.role === "owner" && role !== "owner";
  const updated = await db
    .update(members)
    .set({ role })
    .where(and(eq(members.organizationId, organizationId), eq(members.userId, userId), demotesOwner ? keepsAnOwner(organizationId) : undefined))
    .returning()
    .get();
  if (!updated) throw new ApiError("last_owner");
  return { ...member, role, createdAt: member.createdAt.toISOString() };
}

/** Managers remove anyone they may manage; any member may remove themself (leave). */
export async function removeMember(
  db: Database,
  organizationId: string,
  actor: { userId: string; role: MemberRole },
  userId: string,
) {
  const member = await findMember(db, organizationId, userId);
  const leaving = actor.userId === userId;
  if (!leaving) {
    if (actor.role === "member") throw new ApiError("insufficient_role");
    assertMayAssign(actor.role, member.role, null);
  }
  const removed = await db
    .delete(members)
    .where(and(eq(members.organizationId, organizationId), eq(members.userId, userId), keepsAnOwner(organizationId)))
    .returning()
    .get();
  if (!removed) throw new ApiError("last_owner");
}
