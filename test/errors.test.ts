import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { negotiateLocale } from "../src/i18n";
import { call, expectError, signUp, tenant, unique } from "./helpers";

describe("the error body on every failure path", () => {
  it("unknown routes: 404 route_not_found", async () => {
    const body = await expectError(await call("GET", "/api/does-not-exist"), 404, "route_not_found");
    expect(body.error).toContain("/api/does-not-exist");
  });

  it("wrong methods: 405 with Allow", async () => {
    const res = await call("PUT", "/api/organizations");
    expect(res.headers.get("Allow")).toBe("GET, HEAD, POST");
    await expectError(res, 405, "method_not_allowed");
    const param = await call("POST", "/api/projects/proj_x");
    expect(param.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH");
  });

  it("malformed JSON: 400 invalid_json, on public and authenticated routes", async () => {
    await expectError(await call("POST", "/api/auth/sign-up/email", { body: '{"name": "x",' }), 400, "invalid_json");
    const user = await signUp();
    await expectError(await call("POST", "/api/organizations", { token: user.token, body: "{nope" }), 400, "invalid_json");
  });

  it("bodies in other media types: 415", async () => {
    await expectError(
      await call("POST", "/api/contact", { body: "name=a", headers: { "Content-Type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
  });

  it("oversized bodies: 413, by Content-Length or while streaming, before anything is written", async () => {
    const email = `${unique("big")}@example.com`;
    const big = { name: "x".repeat(70 * 1024), email, password: "password-123" };
    const res = await call("POST", "/api/auth/sign-up/email", { body: big });
    const body = await expectError(res, 413, "payload_too_large");
    expect(body.detail).toEqual({ limit: 65536 });
    const streamed = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const { exports } = await import("cloudflare:workers");
    const chunked = await exports.default.fetch(
      new Request("http://localhost/api/contact", { method: "POST", body: streamed, headers: { "Content-Type": "application/json" }, duplex: "half" } as RequestInit),
    );
    await expectError(chunked, 413, "payload_too_large");
    await expectError(await call("POST", "/api/auth/sign-in/email", { body: { email, password: "password-123" } }), 401, "invalid_credentials");
  });

  it("uncaught exceptions: 500 internal_error with no internals, and nothing half-written", async () => {
    const email = `${unique("e")}@example.com`;
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://localhost/api/auth/sign-up/email", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "N", email, password: "password-123" }),
      }) as Request<unknown, IncomingRequestCfProperties>,
      { ...env, JWT_SECRET: "" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const text = await res.clone().text();
    await expectError(res, 500, "internal_error");
    expect(text).not.toMatch(/JWT_SECRET|at .*\.ts|stack/i);
    // The account was not created: signing up again works.
    expect((await call("POST", "/api/auth/sign-up/email", { body: { name: "N", email, password: "password-123" } })).status).toBe(201);
  });
});

describe("localized messages", () => {
  it("picks the best supported language from Accept-Language", () => {
    expect(negotiateLocale("tr-TR,tr;q=0.9,en;q=0.8")).toBe("tr");
    expect(negotiateLocale("de-DE,en;q=0.5,tr;q=0.7")).toBe("tr");
    expect(negotiateLocale("de, fr")).toBe("en");
    expect(negotiateLocale("tr;q=0, en")).toBe("en");
    expect(negotiateLocale(undefined)).toBe("en");
  });

  it("writes messages and field errors in Turkish; codes never change", async () => {
    const res = await call("POST", "/api/auth/sign-up/email", {
      body: { name: "A", email: "not-an-email", password: "x" },
      headers: { "Accept-Language": "tr" },
    });
    expect(res.headers.get("Content-Language")).toBe("tr");
    const body = await expectError(res, 400, "validation_error");
    expect(body.error).toBe("Doğrulama başarısız");
    const email = body.detail.find((d: { path: string }) => d.path === "email");
    expect(email.message).toBe("Geçersiz e-posta adresi");
    const unauthorized = await expectError(await call("GET", "/api/organizations", { headers: { "Accept-Language": "tr" } }), 401, "unauthorized");
    expect(unauthorized.error).toBe("Kimlik doğrulaması gerekli");
  });

  it("says what type was received, in either language, and gives a value of the wrong type one error", async () => {
    const signUp = (body: unknown, language: string) => call("POST", "/api/auth/sign-up/email", { body, headers: { "Accept-Language": language } });
    const tr = await expectError(await signUp({ name: true, email: 5, password: "password-123" }, "tr"), 400, "validation_error");
    const trMessages = Object.fromEntries(tr.detail.map((d: { path: string; message: string }) => [d.path, d.message]));
    expect(trMessages.name).toMatch(/beklenen string, alınan (boolean|boole)/);
    expect(trMessages.email).toMatch(/alınan (number|sayı)/);
    expect(Object.values(trMessages).join(" ")).not.toContain("undefined");
    const en = await expectError(await signUp({ name: "A", email: "a@example.com", password: [] }, "en"), 400, "validation_error");
    expect(en.detail).toEqual([{ path: "password", code: "invalid_type", message: "Invalid input: expected string, received array" }]);
    // The query and a JSON parameter get the same treatment.
    const t = await tenant();
    const filters = await expectError(
      await call("GET", `/api/engine/projects/${t.project.id}/customers?filters=${encodeURIComponent(JSON.stringify([{ field: 7, op: "eq", value: 1 }]))}`, {
        token: t.owner.token,
        headers: { "Accept-Language": "tr" },
      }),
      400,
      "validation_error",
    );
    expect(JSON.stringify(filters.detail)).not.toContain("undefined");
  });

  it("echoes a request id for correlation", async () => {
    const res = await call("GET", "/health", { headers: { "X-Request-Id": "abc-123" } });
    expect(res.headers.get("X-Request-Id")).toBe("abc-123");
    const generated = await call("GET", "/health", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(generated.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
