import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createOrganization, expectError, json, signUp, tenant, unique } from "./helpers";

describe("sign-up", () => {
  it("creates the account and returns a working session token and cookie", async () => {
    const email = `${unique("Ada")}@Example.com`;
    const res = await call("POST", "/api/auth/sign-up/email", { body: { name: "Ada", email, password: "password-123" } });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.user).toMatchObject({ name: "Ada", email: email.toLowerCase() });
    expect(body.user).not.toHaveProperty("passwordHash");
    expect(res.headers.get("Set-Cookie")).toMatch(/segmento_session=.+HttpOnly/i);
    const session = await call("GET", "/api/auth/session", { token: body.token });
    expect(session.status).toBe(200);
    expect((await json(session)).user.id).toBe(body.user.id);
  });

  it("refuses a taken email, whatever its case (409)", async () => {
    const user = await signUp();
    const res = await call("POST", "/api/auth/sign-up/email", { body: { name: "B", email: user.email.toUpperCase(), password: "password-123" } });
    await expectError(res, 409, "email_taken");
  });

  it("lists every invalid field (400)", async () => {
    const res = await call("POST", "/api/auth/sign-up/email", { body: { name: "", email: "nope", password: "short" } });
    const body = await expectError(res, 400, "validation_error");
    expect(body.detail.map((d: { path: string }) => d.path).sort()).toEqual(["email", "name", "password"]);
  });

  it("rejects wrong types and missing bodies (400)", async () => {
    await expectError(await call("POST", "/api/auth/sign-up/email", { body: { name: 1, email: [], password: null } }), 400, "validation_error");
    await expectError(await call("POST", "/api/auth/sign-up/email", { body: [] }), 400, "validation_error");
    await expectError(await call("POST", "/api/auth/sign-up/email"), 400, "validation_error");
  });
});

describe("sign-in", () => {
  it("returns a token and sets the cookie; the cookie alone authenticates", async () => {
    const user = await signUp();
    const res = await call("POST", "/api/auth/sign-in/email", { body: { email: user.email, password: user.password } });
    expect(res.status).toBe(200);
    const { token } = await json(res);
    expect(token.split(".")).toHaveLength(3);
    const cookie = res.headers.get("Set-Cookie")!.split(";")[0]!;
    const session = await call("GET", "/api/auth/session", { headers: { Cookie: cookie } });
    expect(session.status).toBe(200);
  });

  it("sets the cookie Secure when served over HTTPS, and not on local http", async () => {
    const user = await signUp();
    const signIn = (origin: string) =>
      exports.default.fetch(
        new Request(`${origin}/api/auth/sign-in/email`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: user.email, password: user.password }) }),
      );
    expect((await signIn("https://api.example.com")).headers.get("Set-Cookie")).toMatch(/;\s*Secure/i);
    expect((await signIn("http://localhost:8787")).headers.get("Set-Cookie")).not.toMatch(/Secure/i);
  });

  it("takes no API key from the session cookie, and challenges every 401 with Bearer (RFC 6750)", async () => {
    const t = await tenant();
    const viaCookie = await call("GET", `/api/projects/${t.project.id}`, { headers: { Cookie: `segmento_session=${t.apiKey.key}` } });
    const refused = await expectError(viaCookie, 401, "unauthorized");
    expect(refused.detail.reason).toMatch(/Authorization header/);
    expect(viaCookie.headers.get("WWW-Authenticate")).toBe('Bearer realm="segmento"');
    expect((await call("GET", `/api/projects/${t.project.id}`, { token: t.apiKey.key })).status).toBe(200);
    const expired = await call("GET", "/api/auth/session", { token: "eyJhbGciOiJIUzI1NiJ9.e30.x" });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("WWW-Authenticate")).toBe('Bearer realm="segmento", error="invalid_token"');
    const wrongPassword = await call("POST", "/api/auth/sign-in/email", { body: { email: "nobody@example.com", password: "whatever1" } });
    expect(wrongPassword.headers.get("WWW-Authenticate")).toBe('Bearer realm="segmento"');
  });

  it("answers 401 alike for a wrong password and an unknown email", async () => {
    const user = await signUp();
    await expectError(await call("POST", "/api/auth/sign-in/email", { body: { email: user.email, password: "wrong-password" } }), 401, "invalid_credentials");
    await expectError(await call("POST", "/api/auth/sign-in/email", { body: { email: "nobody@example.com", password: "whatever1" } }), 401, "invalid_credentials");
  });

  it("opens the session on the user's first organization", async () => {
    const user = await signUp();
    const org = await createOrganization(user.token);
    const res = await call("POST", "/api/auth/sign-in/email", { body: { email: user.email, password: user.password } });
    const session = await json(await call("GET", "/api/auth/session", { token: (await json(res)).token }));
    expect(session.session.activeOrganizationId).toBe(org.id);
  });
});

describe("session tokens", () => {
  it("rejects a tampered, foreign-signed or alg=none token (401)", async () => {
    const user = await signUp();
    const [header, payload, signature] = user.token.split(".");
    const tampered = `${header}.${payload}.${signature!.slice(0, -2)}xx`;
    await expectError(await call("GET", "/api/auth/session", { token: tampered }), 401, "session_expired");
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=/g, "")}.${payload}.`;
    await expectError(await call("GET", "/api/auth/session", { token: none }), 401, "session_expired");
    await expectError(await call("GET", "/api/auth/session", { token: "not-a-jwt" }), 401, "session_expired");
  });

  it("stops working after sign-out", async () => {
    const user = await signUp();
    const res = await call("POST", "/api/auth/sign-out", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(/segmento_session=;/);
    await expectError(await call("GET", "/api/auth/session", { token: user.token }), 401, "session_expired");
    await expectError(await call("POST", "/api/auth/sign-out", { token: user.token }), 401, "session_expired");
  });

  it("answers 401 without a credential and for a malformed Authorization header", async () => {
    await expectError(await call("GET", "/api/auth/session"), 401, "unauthorized");
    await expectError(await call("GET", "/api/auth/session", { headers: { Authorization: "Basic abc" } }), 401, "unauthorized");
  });
});

describe("set-active organization", () => {
  it("switches the active organization on the same token", async () => {
    const user = await signUp();
    const first = await createOrganization(user.token, "First");
    const second = await createOrganization(user.token, "Second");
    let session = await json(await call("GET", "/api/auth/session", { token: user.token }));
    expect(session.session.activeOrganizationId).toBe(second.id);
    const res = await call("POST", "/api/auth/organization/set-active", { token: user.token, body: { organizationId: first.id } });
    expect(res.status).toBe(200);
    session = await json(await call("GET", "/api/auth/session", { token: user.token }));
    expect(session.session.activeOrganizationId).toBe(first.id);
  });

  it("answers 404 for an organization the user is not in, and 400 without an id", async () => {
    const user = await signUp();
    const stranger = await signUp();
    const theirs = await createOrganization(stranger.token);
    await expectError(await call("POST", "/api/auth/organization/set-active", { token: user.token, body: { organizationId: theirs.id } }), 404, "not_found");
    await expectError(await call("POST", "/api/auth/organization/set-active", { token: user.token, body: {} }), 400, "validation_error");
  });
});
