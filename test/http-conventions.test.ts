import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, signUp, tenant, unique } from "./helpers";

describe("201 answers carry Location, 202 answers the job's status URL", () => {
  it("points every created resource at a URL that serves it (or manages it)", async () => {
    const signUpRes = await call("POST", "/api/auth/sign-up/email", { body: { name: "Loc", email: `${unique("loc")}@example.com`, password: "password-123" } });
    expect(signUpRes.status).toBe(201);
    expect(signUpRes.headers.get("Location")).toBe("/api/auth/session");
    const { token } = await json(signUpRes);

    const orgRes = await call("POST", "/api/organizations", { token, body: { name: "Located" } });
    const organization = await json(orgRes);
    expect(orgRes.headers.get("Location")).toBe(`/api/organizations/${organization.id}`);
    expect((await call("GET", orgRes.headers.get("Location")!, { token })).status).toBe(200);

    const projectRes = await call("POST", `/api/organizations/${organization.id}/projects`, { token, body: { name: "P" } });
    const project = await json(projectRes);
    expect(projectRes.headers.get("Location")).toBe(`/api/projects/${project.id}`);
    expect(await json(await call("GET", projectRes.headers.get("Location")!, { token }))).toMatchObject({ id: project.id });

    const keyRes = await call("POST", `/api/projects/${project.id}/api-keys`, { token, body: { name: "k" } });
    const key = await json(keyRes);
    expect(keyRes.headers.get("Location")).toBe(`/api/projects/${project.id}/api-keys/${key.id}`);
    expect((await call("PATCH", keyRes.headers.get("Location")!, { token, body: { name: "renamed" } })).status).toBe(200);

    // The free plan has one seat: the owner's.
    await env.DB.prepare("UPDATE organizations SET plan = 'pro' WHERE id = ?").bind(organization.id).run();
    const colleague = await signUp();
    const memberRes = await call("POST", `/api/organizations/${organization.id}/members`, { token, body: { email: colleague.email, role: "member" } });
    expect(memberRes.status).toBe(201);
    expect(memberRes.headers.get("Location")).toBe(`/api/organizations/${organization.id}/members/${colleague.user.id}`);
  });

  it("gives a created segment a readable URL and a queued job its status URL", async () => {
    const t = await tenant();
    const segmentRes = await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "All", rules: [{ field: "rfm_frequency", op: "gte", value: 0 }] } });
    const segment = await json(segmentRes);
    expect(segmentRes.headers.get("Location")).toBe(`/api/engine/segments/${segment.id}`);
    expect(await json(await call("GET", segmentRes.headers.get("Location")!, { token: t.apiKey.key }))).toMatchObject({ id: segment.id, name: "All", kind: "rule" });

    const accepted = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: [{ customer_id: "c", order_date: "2025-01-01", amount: 1 }] } });
    expect(accepted.status).toBe(202);
    const { job_id } = await json(accepted);
    expect(accepted.headers.get("Location")).toBe(`/api/engine/jobs/${job_id}/status`);
    expect(await json(await call("GET", accepted.headers.get("Location")!, { token: t.apiKey.key }))).toMatchObject({ job_id });

    const run = await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: t.owner.token });
    expect(run.status).toBe(202);
    expect(run.headers.get("Location")).toBe(`/api/engine/jobs/${(await json(run)).job_id}/status`);

    const form = new FormData();
    form.append("file", new File(["customer_id,order_date,amount\nu,2025-01-01,1\n"], "u.csv", { type: "text/csv" }));
    const upload = await call("POST", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token, body: form });
    expect(upload.status).toBe(202);
    expect(upload.headers.get("Location")).toBe(`/api/engine/jobs/${(await json(upload)).job_id}/status`);
  });
});
