import { describe, expect, it } from "vitest";
import { call, createOrganization, expectError, json, signUp, unique } from "./helpers";

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
