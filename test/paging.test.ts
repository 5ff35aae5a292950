import { describe, expect, it } from "vitest";
import { call, createProject, expectError, json, tenant } from "./helpers";

describe("one paging shape on every list", () => {
  it("pages projects with page and limit, and reports total and pages", async () => {
    const t = await tenant();
    await createProject(t.owner.token, t.organization.id, "Second");
    await createProject(t.owner.token, t.organization.id, "Third");
    const base = `/api/organizations/${t.organization.id}/projects`;
    const first = await json(await call("GET", `${base}?limit=2`, { token: t.owner.token }));
    expect(first).toMatchObject({ total: 3, page: 1, pages: 2 });
    expect(first.projects).toHaveLength(2);
    const second = await json(await call("GET", `${base}?limit=2&page=2`, { token: t.owner.token }));
    expect(second.projects).toHaveLength(1);
    const all = [...first.projects, ...second.projects].map((p: { id: string }) => p.id);
    expect(new Set(all).size).toBe(3);
    const beyond = await json(await call("GET", `${base}?limit=2&page=3`, { token: t.owner.token }));
    expect(beyond).toMatchObject({ projects: [], total: 3, page: 3, pages: 2 });
  });

  it("answers every list with the shape, and 400 to an unknown or bad query parameter", async () => {
    const t = await tenant();
    const lists: Array<[string, string]> = [
      ["/api/organizations", "organizations"],
      [`/api/organizations/${t.organization.id}/projects`, "projects"],
      [`/api/organizations/${t.organization.id}/members`, "members"],
      [`/api/projects/${t.project.id}/api-keys`, "apiKeys"],
      [`/api/engine/projects/${t.project.id}/files`, "files"],
      [`/api/engine/projects/${t.project.id}/segments`, "segments"],
      [`/api/engine/projects/${t.project.id}/jobs`, "jobs"],
      [`/api/projects/${t.project.id}/connectors`, "connectors"],
      [`/api/projects/${t.project.id}/automations`, "automations"],
    ];
    for (const [path, key] of lists) {
      const page = await json(await call("GET", `${path}?page=1&limit=1`, { token: t.owner.token }));
      expect(Array.isArray(page[key]), path).toBe(true);
      expect(page, path).toMatchObject({ page: 1 });
      expect(typeof page.total, path).toBe("number");
      expect(page.pages, path).toBe(Math.ceil(page.total / 1));
      for (const query of ["sort=name", "limit=0", "limit=501", "page=0", "page=x"]) {
        await expectError(await call("GET", `${path}?${query}`, { token: t.owner.token }), 400, "validation_error");
      }
    }
  });
});
