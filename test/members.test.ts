import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createOrganization, expectError, json, signUp } from "./helpers";

/** Team seats depend on the plan; these tests need room for a few members. */
async function onPlan(organizationId: string, plan: string) {
  await env.DB.prepare("UPDATE organizations SET plan = ? WHERE id = ?").bind(plan, organizationId).run();
}

async function team() {
  const owner = await signUp();
  const org = await createOrganization(owner.token);
  await onPlan(org.id, "starter");
  const admin = await signUp();
  const member = await signUp();
  expect((await call("POST", `/api/organizations/${org.id}/members`, { token: owner.token, body: { email: admin.email, role: "admin" } })).status).toBe(201);
  expect((await call("POST", `/api/organizations/${org.id}/members`, { token: owner.token, body: { email: member.email, role: "member" } })).status).toBe(201);
  return { owner, org, admin, member };
}

const path = (orgId: string, userId?: string) => `/api/organizations/${orgId}/members${userId ? `/${userId}` : ""}`;

describe("members", () => {
  it("adds existing users by email and lists them with roles", async () => {
    const { owner, org, admin, member } = await team();
    const list = await json(await call("GET", path(org.id), { token: member.token }));
    expect(list.members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      [owner.email, "owner"],
      [admin.email, "admin"],
      [member.email, "member"],
    ]);
  });

  it("answers 404 for an unknown email, 409 for an existing member, 400 for a bad role", async () => {
    const { owner, org, member } = await team();
    await expectError(await call("POST", path(org.id), { token: owner.token, body: { email: "ghost@example.com", role: "member" } }), 404, "not_found");
    await expectError(await call("POST", path(org.id), { token: owner.token, body: { email: member.email, role: "member" } }), 409, "already_member");
    await expectError(await call("POST", path(org.id), { token: owner.token, body: { email: member.email, role: "superuser" } }), 400, "validation_error");
  });

  it("lets only owners and admins manage, and only owners touch the owner role", async () => {
    const { org, admin, member } = await team();
    const newcomer = await signUp();
    await expectError(await call("POST", path(org.id), { token: member.token, body: { email: newcomer.email, role: "member" } }), 403, "insufficient_role");
    await expectError(await call("POST", path(org.id), { token: admin.token, body: { email: newcomer.email, role: "owner" } }), 403, "insufficient_role");
    expect((await call("POST", path(org.id), { token: admin.token, body: { email: newcomer.email, role: "member" } })).status).toBe(201);
    await expectError(await call("PATCH", path(org.id, newcomer.user.id), { token: member.token, body: { role: "admin" } }), 403, "insufficient_role");
    const promoted = await call("PATCH", path(org.id, newcomer.user.id), { token: admin.token, body: { role: "admin" } });
    expect(promoted.status).toBe(200);
    expect((await json(promoted)).role).toBe("admin");
  });

  it("enforces the plan's team seats (429 quota_exceeded)", async () => {
    const owner = await signUp();
    const org = await createOrganization(owner.token);
    const other = await signUp();
    const body = await expectError(await call("POST", path(org.id), { token: owner.token, body: { email: other.email, role: "member" } }), 429, "quota_exceeded");
    expect(body.detail).toMatchObject({ quota: "teamSeats", limit: 1 });
  });

  it("never leaves an organization without an owner", async () => {
    const { owner, org, admin } = await team();
    await expectError(await call("PATCH", path(org.id, owner.user.id), { token: owner.token, body: { role: "admin" } }), 409, "last_owner");
    await expectError(await call("DELETE", path(org.id, owner.user.id), { token: owner.token }), 409, "last_owner");
    // With a second owner, the first may step down.
    expect((await call("PATCH", path(org.id, admin.user.id), { token: owner.token, body: { role: "owner" } })).status).toBe(200);
    expect((await call("PATCH", path(org.id, owner.user.id), { token: owner.token, body: { role: "member" } })).status).toBe(200);
  });

  it("removes members; a member may leave; a removed member loses access", async () => {
    const { owner, org, admin, member } = await team();
    await expectError(await call("DELETE", path(org.id, admin.user.id), { token: member.token }), 403, "insufficient_role");
    expect((await call("DELETE", path(org.id, member.user.id), { token: member.token })).status).toBe(204);
    await expectError(await call("GET", `/api/organizations/${org.id}`, { token: member.token }), 404, "not_found");
    expect((await call("DELETE", path(org.id, admin.user.id), { token: owner.token })).status).toBe(204);
    await expectError(await call("DELETE", path(org.id, admin.user.id), { token: owner.token }), 404, "not_found");
  });

  it("hides other organizations' members (404)", async () => {
    const { org } = await team();
    const outsider = await signUp();
    await expectError(await call("GET", path(org.id), { token: outsider.token }), 404, "not_found");
    await expectError(await call("POST", path(org.id), { token: outsider.token, body: { email: outsider.email, role: "owner" } }), 404, "not_found");
  });
});

describe("owners demoting each other at once", () => {
  it("keeps at least one owner", async () => {
    const { owner, org, admin } = await team();
    await call("PATCH", path(org.id, admin.user.id), { token: owner.token, body: { role: "owner" } });
    const results = await Promise.all([
      call("PATCH", path(org.id, owner.user.id), { token: admin.token, body: { role: "member" } }),
      call("PATCH", path(org.id, admin.user.id), { token: owner.token, body: { role: "member" } }),
    ]);
    const owners = await env.DB.prepare("SELECT COUNT(*) AS n FROM members WHERE organization_id = ? AND role = 'owner'").bind(org.id).first<{ n: number }>();
    expect(owners!.n).toBe(1);
    // One demotion wins; the other is refused as the last owner (409) or, if it ran second, because
    // its caller is no longer a manager (403).
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
  });
});
