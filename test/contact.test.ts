import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json } from "./helpers";

const ipHeader = () => ({ "CF-Connecting-IP": `192.0.2.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}` });
const message = { name: "Ada Lovelace", email: "ada@example.com", message: "Segmentation job 8f1c2d3e failed at 40%." };

describe("POST /api/contact", () => {
  it("stores the message without authentication", async () => {
    const res = await call("POST", "/api/contact", { body: message, headers: ipHeader() });
    expect(res.status).toBe(201);
    const { id } = await json(res);
    const row = await env.DB.prepare("SELECT name, email, message FROM contact_messages WHERE id = ?").bind(id).first();
    expect(row).toEqual({ name: message.name, email: message.email, message: message.message });
  });

  it("requires name ≥ 2, a valid email and message ≥ 10 (400), storing nothing", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM contact_messages").first<{ n: number }>();
    const res = await call("POST", "/api/contact", { body: { name: "A", email: "nope", message: "short" }, headers: ipHeader() });
    const body = await expectError(res, 400, "validation_error");
    expect(body.detail.map((d: { path: string }) => d.path).sort()).toEqual(["email", "message", "name"]);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM contact_messages").first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it("is rate-limited per client IP", async () => {
    const headers = ipHeader();
    for (let i = 0; i < 5; i++) expect((await call("POST", "/api/contact", { body: message, headers })).status).toBe(201);
    const limited = await call("POST", "/api/contact", { body: message, headers });
    expect(limited.headers.get("Retry-After")).not.toBeNull();
    await expectError(limited, 429, "rate_limited");
    expect((await call("POST", "/api/contact", { body: message, headers: ipHeader() })).status).toBe(201);
  });
});
