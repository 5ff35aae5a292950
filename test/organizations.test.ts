import { describe, expect, it } from "vitest";
import { call, createOrganization, expectError, json, signUp, unique } from "./helpers";

describe("organizations", () => {
  it("creates an organization owned by its creator, on the free plan, and makes it active", async () => {
    const user = await signUp();
    const res = await call("POST", "/api/organizations", { token: user.token, body: { name: "Acme Retail" } });
    expect(res.status).toBe(201);
    const org = await json(res);
    expect(org.id).toMatch(/^org_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(org).toMatchObject({ name: "Acme Retail", plan: "free", role: "owner" });
    expect(org.slug).toMatch(/^acme-retail/);
    const session = await json(await call("GET", "/api/auth/session", { token: user.token }));
    expect(session.session.activeOrganizationId).toBe(org.id);
  });

  it("derives a unique slug when the name's slug is taken, and refuses a taken explicit slug (409)", async () => {
    const user = await signUp();
    const slug = unique("slug").toLowerCase();
    const first = await json(await call("POST", "/api/organizations", { token: user.token, body: { name: "X", slug } }));
    expect(first.slug).toBe(slug);
    await expectError(await call("POST", "/api/organizations", { token: user.token, body: { name: "Y", slug } }), 409, "slug_taken");
    const a = await createOrganization(user.token, "Same Name");
    const b = await createOrganization(user.token, "Same Name");
    expect(a.slug).not.toBe(b.slug);
  });

  it("validates name and slug (400) and writes nothing", async () => {
    const user = await signUp();
    await expectError(await call("POST", "/api/organizations", { token: user.token, body: { name: "  " } }), 400, "validation_error");
    await expectError(await call("POST", "/api/organizations", { token: user.token, body: { name: "A", slug: "Not A Slug" } }), 400, "validation_error");
    await expectError(await call("POST", "/api/organizations", { token: user.token, body: { name: "x".repeat(121) } }), 400, "validation_error");
    const list = await json(await call("GET", "/api/organizations", { token: user.token }));
    expect(list.organizations).toEqual([]);
  });

  it("lists and gets only the caller's organizations; another tenant's id is 404", async () => {
    const user = await signUp();
    const other = await signUp();
    const mine = await createOrganization(user.token, "Mine");
    const theirs = await createOrganization(other.token, "Theirs");
    const list = await json(await call("GET", "/api/organizations", { token: user.token }));
    expect(list.organizations.map((o: { id: string }) => o.id)).toEqual([mine.id]);
    expect((await call("GET", `/api/organizations/${mine.id}`, { token: user.token })).status).toBe(200);
    await expectError(await call("GET", `/api/organizations/${theirs.id}`, { token: user.token }), 404, "not_found");
    await expectError(await call("GET", `/api/organizations/org_doesnotexist`, { token: user.token }), 404, "not_found");
  });
});
