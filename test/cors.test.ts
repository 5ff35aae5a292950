import { describe, expect, it } from "vitest";
import { call, createOrganization, createProject, json, signUp } from "./helpers";

// The tests bind CORS_ALLOWED_ORIGINS = "https://app.example.com, http://localhost:*".
describe("CORS and security headers", () => {
  it("answers a preflight from a listed origin with the allowed methods, headers and credentials", async () => {
    const res = await call("OPTIONS", "/api/projects/proj_x", {
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("PATCH");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("Vary")).toContain("Origin");
  });

  it("matches any port of a `host:*` entry, and nothing else", async () => {
    for (const origin of ["http://localhost:5173", "http://localhost:3000"]) {
      const res = await call("OPTIONS", "/health", { headers: { Origin: origin, "Access-Control-Request-Method": "GET" } });
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    }
    for (const origin of ["https://evil.example.com", "http://localhost.evil.com:80", "https://app.example.com.evil.com", "null"]) {
      const res = await call("OPTIONS", "/health", { headers: { Origin: origin, "Access-Control-Request-Method": "GET" } });
      expect(res.status).toBe(204);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    }
  });

  it("lets a listed origin read an authenticated answer and its rate-limit headers, errors included", async () => {
    const owner = await signUp();
    const organization = await createOrganization(owner.token);
    const project = await createProject(owner.token, organization.id);
    const ok = await call("GET", `/api/projects/${project.id}`, { token: owner.token, headers: { Origin: "https://app.example.com" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(ok.headers.get("Access-Control-Expose-Headers")).toContain("RateLimit-Remaining");
    const missing = await call("GET", "/api/projects/proj_missing", { token: owner.token, headers: { Origin: "https://app.example.com" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    const foreign = await call("GET", `/api/projects/${project.id}`, { token: owner.token, headers: { Origin: "https://evil.example.com" } });
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("sends secure headers everywhere and a nonce-based Content-Security-Policy on /docs", async () => {
    const health = await call("GET", "/health");
    expect(health.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(health.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(health.headers.get("Strict-Transport-Security")).toContain("max-age=");
    const docs = await call("GET", "/docs");
    const csp = docs.headers.get("Content-Security-Policy")!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    const html = await docs.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    const again = (await call("GET", "/docs")).headers.get("Content-Security-Policy");
    expect(again).not.toBe(csp);
    expect(await json(await call("GET", "/health"))).toMatchObject({ status: "ok" });
  });
});
