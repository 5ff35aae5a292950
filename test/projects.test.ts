import { describe, expect, it } from "vitest";
import { call, createOrganization, createProject, expectError, json, signUp, tenant } from "./helpers";

describe("projects", () => {
  it("creates, lists, gets, renames and deletes within the organization", async () => {
    const owner = await signUp();
    const org = await createOrganization(owner.token);
    const res = await call("POST", `/api/organizations/${org.id}/projects`, { token: owner.token, body: { name: "Web shop" } });
    expect(res.status).toBe(201);
    const project = await json(res);
    expect(project.id).toMatch(/^proj_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(project).toMatchObject({ organizationId: org.id, name: "Web shop" });

    const list = await json(await call("GET", `/api/organizations/${org.id}/projects`, { token: owner.token }));
    expect(list.projects.map((p: { id: string }) => p.id)).toEqual([project.id]);

    const renamed = await call("PATCH", `/api/projects/${project.id}`, { token: owner.token, body: { name: "Store" } });
    expect((await json(renamed)).name).toBe("Store");
    expect((await json(await call("GET", `/api/projects/${project.id}`, { token: owner.token }))).name).toBe("Store");

    expect((await call("DELETE", `/api/projects/${project.id}`, { token: owner.token })).status).toBe(204);
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: owner.token }), 404, "not_found");
  });

  it("answers to the project's own API key, and 403 to a key of any other project", async () => {
    const a = await tenant();
    const b = await tenant();
    const res = await call("GET", `/api/projects/${a.project.id}`, { token: a.apiKey.key });
    expect(res.status).toBe(200);
    expect((await json(res)).id).toBe(a.project.id);
    await expectError(await call("GET", `/api/projects/${b.project.id}`, { token: a.apiKey.key }), 403, "project_mismatch");
    await expectError(await call("GET", `/api/projects/proj_doesnotexist`, { token: a.apiKey.key }), 403, "project_mismatch");
  });

  it("keeps API keys out of management (403) and other tenants out entirely (404)", async () => {
    const a = await tenant();
    const b = await tenant();
    await expectError(await call("PATCH", `/api/projects/${a.project.id}`, { token: a.apiKey.key, body: { name: "x" } }), 403, "session_required");
    await expectError(await call("DELETE", `/api/projects/${a.project.id}`, { token: a.apiKey.key }), 403, "session_required");
    await expectError(await call("GET", `/api/projects/${b.project.id}`, { token: a.owner.token }), 404, "not_found");
    await expectError(await call("PATCH", `/api/projects/${b.project.id}`, { token: a.owner.token, body: { name: "mine now" } }), 404, "not_found");
    await expectError(await call("DELETE", `/api/projects/${b.project.id}`, { token: a.owner.token }), 404, "not_found");
    await expectError(await call("POST", `/api/organizations/${b.organization.id}/projects`, { token: a.owner.token, body: { name: "x" } }), 404, "not_found");
    await expectError(await call("GET", `/api/organizations/${b.organization.id}/projects`, { token: a.owner.token }), 404, "not_found");
    // Nothing of b's changed.
    expect((await json(await call("GET", `/api/projects/${b.project.id}`, { token: b.owner.token }))).name).toBe("Shop");
  });

  it("validates names (400) and changes nothing", async () => {
    const { owner, project, organization } = await tenant();
    await expectError(await call("PATCH", `/api/projects/${project.id}`, { token: owner.token, body: { name: "" } }), 400, "validation_error");
    await expectError(await call("PATCH", `/api/projects/${project.id}`, { token: owner.token, body: { name: 42 } }), 400, "validation_error");
    await expectError(await call("POST", `/api/organizations/${organization.id}/projects`, { token: owner.token, body: {} }), 400, "validation_error");
    expect((await json(await call("GET", `/api/projects/${project.id}`, { token: owner.token }))).name).toBe("Shop");
  });

  it("lets members work with projects but only owners and admins delete them", async () => {
    const { owner, organization, project } = await tenant();
    const { env } = await import("cloudflare:workers");
    await env.DB.prepare("UPDATE organizations SET plan = 'starter' WHERE id = ?").bind(organization.id).run();
    const member = await signUp();
    await call("POST", `/api/organizations/${organization.id}/members`, { token: owner.token, body: { email: member.email, role: "member" } });
    expect((await call("GET", `/api/projects/${project.id}`, { token: member.token })).status).toBe(200);
    const created = await createProject(member.token, organization.id, "Member's");
    await expectError(await call("DELETE", `/api/projects/${created.id}`, { token: member.token }), 403, "insufficient_role");
  });

  it("shows a key its project renamed, though the key's project is cached with the key", async () => {
    const { owner, project, apiKey } = await tenant();
    expect((await json(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }))).name).toBe(project.name);
    expect((await call("PATCH", `/api/projects/${project.id}`, { token: owner.token, body: { name: "Renamed" } })).status).toBe(200);
    expect((await json(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }))).name).toBe("Renamed");
  });

  it("deleting a project revokes its API keys", async () => {
    const { owner, project, apiKey } = await tenant();
    // Used first, so this isolate holds the key in its cache when the project goes.
    expect((await call("GET", `/api/projects/${project.id}`, { token: apiKey.key })).status).toBe(200);
    expect((await call("DELETE", `/api/projects/${project.id}`, { token: owner.token })).status).toBe(204);
    await expectError(await call("GET", `/api/projects/${project.id}`, { token: apiKey.key }), 401, "invalid_api_key");
  });
});
