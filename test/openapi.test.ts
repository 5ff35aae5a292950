import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { call, json } from "./helpers";

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 and documents every route the app serves", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
    }
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL" && !["/openapi.json", "/docs"].includes(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect(served.length).toBeGreaterThan(15);
    for (const route of served) expect(documented, route).toContain(route);
  });

  it("declares auth, request schemas and the shared error responses", async () => {
    const doc = await json(await call("GET", "/openapi.json"));
    const createKey = doc.paths["/api/projects/{projectId}/api-keys"].post;
    expect(createKey.security).toEqual([{ bearerSession: [] }, { sessionCookie: [] }]);
    expect(createKey.requestBody.content["application/json"].schema).toBeDefined();
    for (const status of ["400", "401", "403", "404", "413", "429", "500"]) expect(createKey.responses).toHaveProperty(status);
    expect(doc.paths["/api/projects/{projectId}"].get.security).toContainEqual({ apiKey: [] });
    expect(doc.components.schemas.Error.properties.code.enum).toContain("rate_limited");
    expect(doc.components.securitySchemes).toHaveProperty("bearerSession");
    expect(doc.paths["/api/contact"].post.security).toEqual([]);
    expect(doc.paths["/health"].get.security).toEqual([]);
  });

  it("names every operation once, lists its tags, and documents the headers every response carries", async () => {
    const doc = await json(await call("GET", "/openapi.json"));
    const operations = Object.values<Record<string, any>>(doc.paths).flatMap((item) => Object.values<any>(item));
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    for (const operation of operations) for (const tag of operation.tags) expect(tags).toContain(tag);
    const createKey = doc.paths["/api/projects/{projectId}/api-keys"].post;
    expect(createKey.responses["201"].headers).toHaveProperty("Location");
    expect(createKey.responses["201"].headers).toHaveProperty("RateLimit-Remaining");
    expect(createKey.responses["429"].headers).toHaveProperty("Retry-After");
    expect(createKey.responses).toHaveProperty("415");
    expect(doc.paths["/api/v1/ingest"].post.responses["202"].headers).toHaveProperty("Location");
  });

  it("serves an interactive reference at /docs that reads the document", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/<script[^>]+src=/);
  });
});
