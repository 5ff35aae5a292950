import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { cronMatches, parseCron } from "../../src/activations/cron";
import { holdoutPosition, isHoldout } from "../../src/activations/holdout";
import { call, expectError, json, signUp } from "../helpers";
import { activationTenant, createAutomation, createConnector, customerIds, sendgridConnector, webhookConnector } from "./helpers";

type Tenant = Awaited<ReturnType<typeof activationTenant>>;

let t: Tenant;
let other: Tenant;
let webhook: { id: string };
let sendgrid: { id: string };
beforeAll(async () => {
  [t, other] = await Promise.all([activationTenant(200), activationTenant(20)]);
  // Enough automations for these tests; the quota test uses its own free-plan organization.
  await env.DB.prepare("UPDATE organizations SET plan = 'pro' WHERE id = ?").bind(t.organization.id).run();
  webhook = await createConnector(t, webhookConnector());
  sendgrid = await createConnector(t, sendgridConnector);
}, 60_000);

describe("automations CRUD", { timeout: 60_000 }, () => {
  it("creates with the documented defaults, lists, reads, updates and deletes", async () => {
    const created = await createAutomation(t, { name: "Welcome", segment_id: t.segmentId, connector_id: webhook.id });
    expect(created).toMatchObject({
      name: "Welcome",
      project_id: t.project.id,
      trigger: { type: "manual" },
      holdout_pct: 10,
      address: {},
      message: null,
      status: "active",
      outcome_window_days: 30,
    });
    expect(await json(await call("GET", `/api/automations/${created.id}`, { token: t.owner.token }))).toEqual(created);
    const list = await json(await call("GET", `/api/projects/${t.project.id}/automations`, { token: t.owner.token }));
    expect(list.automations.map((a: { id: string }) => a.id)).toContain(created.id);
    const updated = await json(
      await call("PATCH", `/api/automations/${created.id}`, { token: t.owner.token, body: { trigger: { type: "schedule", cron: "0 9 * * 1" }, holdout_pct: 20, status: "paused" } }),
    );
    expect(updated).toMatchObject({ trigger: { type: "schedule", cron: "0 9 * * 1" }, holdout_pct: 20, status: "paused", name: "Welcome" });
    expect((await call("DELETE", `/api/automations/${created.id}`, { token: t.owner.token })).status).toBe(204);
    await expectError(await call("GET", `/api/automations/${created.id}`, { token: t.owner.token }), 404, "not_found");
  });

  it("refuses bad input with field details, storing nothing", async () => {
    const base = { name: "x", segment_id: t.segmentId, connector_id: webhook.id };
    const ses = await createConnector(t, { type: "amazon_ses", name: "SES", config: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1" } });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, segment_id: "nope" }, "segment_id"],
      [{ ...base, segment_id: other.segmentId }, "segment_id"],
      [{ ...base, connector_id: "nope" }, "connector_id"],
      [{ ...base, holdout_pct: 60 }, "holdout_pct"],
      [{ ...base, holdout_pct: 1.5 }, "holdout_pct"],
      [{ ...base, trigger: { type: "schedule", cron: "61 * * * *" } }, "trigger.cron"],
      [{ ...base, trigger: { type: "schedule", cron: "every day" } }, "trigger.cron"],
      [{ ...base, trigger: { type: "hourly" } }, "trigger.type"],
      [{ ...base, status: "running" }, "status"],
      [{ ...base, connector_id: sendgrid.id }, "address.email"],
      [{ ...base, connector_id: sendgrid.id, address: { email: 'bad"key' } }, "address.email"],
      [{ ...base, connector_id: ses.id, address: { email: "email" } }, "message.body"],
      [{ ...base, connector_id: ses.id, address: { email: "email" }, message: { body: "Hi" } }, "message.subject"],
      [{ ...base, connector_id: ses.id, address: { email: "email" }, message: { subject: "Hi", body: "Hi" } }, "connector_id"],
      [{ ...base, extra: true }, ""],
    ];
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM automations WHERE project_id = ?").bind(t.project.id).first<{ n: number }>();
    for (const [body, path] of cases) {
      const error = await expectError(await call("POST", `/api/projects/${t.project.id}/automations`, { token: t.owner.token, body }), 400, "validation_error");
      expect(error.detail.map((d: { path: string }) => d.path), JSON.stringify(body)).toContain(path);
    }
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM automations WHERE project_id = ?").bind(t.project.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
    const created = await createAutomation(t, base);
    await expectError(await call("PATCH", `/api/automations/${created.id}`, { token: t.owner.token, body: { connector_id: sendgrid.id } }), 400, "validation_error");
    await expectError(await call("PATCH", `/api/automations/${created.id}`, { token: t.owner.token, body: {} }), 400, "validation_error");
  });

  it("counts active automations against the plan (free: 2)", async () => {
    const free = await activationTenant(5);
    const connector = await createConnector(free, webhookConnector());
    const body = { name: "x", segment_id: free.segmentId, connector_id: connector.id };
    const first = await createAutomation(free, body);
    await createAutomation(free, body);
    const error = await expectError(await call("POST", `/api/projects/${free.project.id}/automations`, { token: free.owner.token, body }), 429, "quota_exceeded");
    expect(error.detail).toMatchObject({ quota: "automations", limit: 2, used: 2 });
    const paused = await createAutomation(free, { ...body, status: "paused" });
    await expectError(await call("PATCH", `/api/automations/${paused.id}`, { token: free.owner.token, body: { status: "active" } }), 429, "quota_exceeded");
    // An active one changed while active does not count twice.
    expect((await call("PATCH", `/api/automations/${first.id}`, { token: free.owner.token, body: { name: "renamed", status: "active" } })).status).toBe(200);
    expect((await call("PATCH", `/api/automations/${first.id}`, { token: free.owner.token, body: { status: "paused" } })).status).toBe(200);
    expect((await call("PATCH", `/api/automations/${paused.id}`, { token: free.owner.token, body: { status: "active" } })).status).toBe(200);
  });

  it("lets concurrent activations take only the units left, and reports active automations in usage", async () => {
    const free = await activationTenant(5);
    const connector = await createConnector(free, webhookConnector());
    const body = { name: "x", segment_id: free.segmentId, connector_id: connector.id };
    const created = await Promise.all(Array.from({ length: 4 }, () => call("POST", `/api/projects/${free.project.id}/automations`, { token: free.owner.token, body })));
    expect(created.map((r) => r.status).sort()).toEqual([201, 201, 429, 429]);
    const paused = await Promise.all(Array.from({ length: 3 }, () => createAutomation(free, { ...body, status: "paused" })));
    const active = await env.DB.prepare("SELECT COUNT(*) AS n FROM automations WHERE organization_id = ? AND status = 'active'").bind(free.organization.id).first<{ n: number }>();
    expect(active!.n).toBe(2);
    expect((await call("PATCH", `/api/automations/${(await json(created.find((r) => r.status === 201)!)).id}`, { token: free.owner.token, body: { status: "paused" } })).status).toBe(200);
    const activations = await Promise.all(paused.map((a) => call("PATCH", `/api/automations/${a.id}`, { token: free.owner.token, body: { status: "active" } })));
    expect(activations.map((r) => r.status).sort()).toEqual([200, 429, 429]);
    const usage = await json(await call("GET", `/api/organizations/${free.organization.id}/usage`, { token: free.owner.token }));
    expect(usage.data.automations).toMatchObject({ used: 2, limit: 2 });
  });

  it("keeps a connector or segment in use from being deleted (409)", async () => {
    const connector = await createConnector(t, webhookConnector());
    const automation = await createAutomation(t, { name: "x", segment_id: t.segmentId, connector_id: connector.id });
    await expectError(await call("DELETE", `/api/connectors/${connector.id}`, { token: t.owner.token }), 409, "conflict");
    await expectError(await call("DELETE", `/api/engine/segments/${t.segmentId}`, { token: t.owner.token }), 409, "conflict");
    expect((await call("DELETE", `/api/automations/${automation.id}`, { token: t.owner.token })).status).toBe(204);
    expect((await call("DELETE", `/api/connectors/${connector.id}`, { token: t.owner.token })).status).toBe(204);
  });

  it("hides other tenants' automations (404); members read, only owners and admins write", async () => {
    const theirs = await createAutomation(other, { name: "x", segment_id: other.segmentId, connector_id: (await createConnector(other, webhookConnector())).id });
    for (const [method, path] of [
      ["GET", `/api/automations/${theirs.id}`],
      ["GET", `/api/automations/${theirs.id}/preview`],
      ["PATCH", `/api/automations/${theirs.id}`],
      ["DELETE", `/api/automations/${theirs.id}`],
    ] as const) {
      await expectError(await call(method, path, { token: t.owner.token, body: method === "PATCH" ? { name: "x" } : undefined }), 404, "not_found");
    }
    expect((await call("GET", `/api/automations/${theirs.id}`, { token: other.owner.token })).status).toBe(200);
    const member = await signUp();
    expect((await call("POST", `/api/organizations/${t.organization.id}/members`, { token: t.owner.token, body: { email: member.email, role: "member" } })).status).toBe(201);
    const mine = await createAutomation(t, { name: "x", segment_id: t.segmentId, connector_id: webhook.id });
    expect((await call("GET", `/api/automations/${mine.id}/preview`, { token: member.token })).status).toBe(200);
    await expectError(await call("PATCH", `/api/automations/${mine.id}`, { token: member.token, body: { name: "y" } }), 403, "insufficient_role");
    await expectError(await call("POST", `/api/projects/${t.project.id}/automations`, { token: member.token, body: { name: "x", segment_id: t.segmentId, connector_id: webhook.id } }), 403, "insufficient_role");
  });
});

describe("preview and holdout", { timeout: 60_000 }, () => {
  it("splits the segment into holdout, skipped (no email) and to add, by the fixed hash", async () => {
    const automation = await createAutomation(t, { name: "Mail", segment_id: t.segmentId, connector_id: sendgrid.id, address: { email: "email" }, holdout_pct: 25 });
    const preview = await json(await call("GET", `/api/automations/${automation.id}/preview`, { token: t.owner.token }));
    const ids = customerIds(200);
    const control: string[] = [];
    for (const id of ids) if (await isHoldout(automation.id, id, 25)) control.push(id);
    const skipped = ids.filter((id, i) => !control.includes(id) && i % 10 === 0);
    expect(preview).toMatchObject({
      automation_id: automation.id,
      member_count: 200,
      last_synced_at: null,
      holdout: { count: control.length },
      skipped_no_address: { count: skipped.length },
      to_add: { count: 200 - control.length - skipped.length },
      to_remove: { count: 0, sample: [] },
      in_sync: { count: 0 },
    });
    expect(control.length).toBeGreaterThan(25);
    expect(control.length).toBeLessThan(75);
    expect(preview.holdout.sample).toEqual(control.slice(0, 10));
    expect(preview.skipped_no_address.sample).toEqual(skipped.slice(0, 10));
    // The same answer again: nothing was sent or stored.
    expect(await json(await call("GET", `/api/automations/${automation.id}/preview`, { token: t.owner.token }))).toEqual(preview);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM automation_runs WHERE automation_id = ?").bind(automation.id).first("n")).toBe(0);
  });

  it("a webhook needs no address: only the holdout is left out", async () => {
    const automation = await createAutomation(t, { name: "Hook", segment_id: t.segmentId, connector_id: webhook.id, holdout_pct: 0 });
    const preview = await json(await call("GET", `/api/automations/${automation.id}/preview`, { token: t.owner.token }));
    expect(preview).toMatchObject({ member_count: 200, holdout: { count: 0 }, skipped_no_address: { count: 0 }, to_add: { count: 200 } });
  });

  it("the holdout is a fixed, independent share per automation", async () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `customer-${i}`);
    const a = await Promise.all(ids.map((id) => isHoldout("automation-a", id, 10)));
    const b = await Promise.all(ids.map((id) => isHoldout("automation-b", id, 10)));
    const share = a.filter(Boolean).length / ids.length;
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
    const both = a.filter((x, i) => x && b[i]).length / ids.length;
    expect(both).toBeLessThan(0.02);
    expect(await holdoutPosition("automation-a", "customer-1")).toBe(await holdoutPosition("automation-a", "customer-1"));
    expect(await Promise.all(ids.slice(0, 50).map((id) => isHoldout("automation-a", id, 0)))).not.toContain(true);
    // Raising the share keeps everyone already held out in the holdout.
    const wider = await Promise.all(ids.map((id) => isHoldout("automation-a", id, 20)));
    expect(a.every((x, i) => !x || wider[i])).toBe(true);
  });
});

describe("cron schedules", () => {
  it("matches the documented forms in UTC", () => {
    const at = (iso: string) => new Date(iso);
    expect(cronMatches(parseCron("0 9 * * 1"), at("2026-11-30T09:00:00Z"))).toBe(true);
    expect(cronMatches(parseCron("0 9 * * 1"), at("2026-12-01T09:00:00Z"))).toBe(false);
    expect(cronMatches(parseCron("*/15 * * * *"), at("2026-11-30T10:45:30Z"))).toBe(true);
    expect(cronMatches(parseCron("*/15 * * * *"), at("2026-11-30T10:46:00Z"))).toBe(false);
    expect(cronMatches(parseCron("0 0 1 * *"), at("2026-12-01T00:00:00Z"))).toBe(true);
    expect(cronMatches(parseCron("0 0 * * 7"), at("2026-11-29T00:00:00Z"))).toBe(true);
    expect(cronMatches(parseCron("30 8-10/2 * 1,6 *"), at("2026-06-03T10:30:00Z"))).toBe(true);
    expect(cronMatches(parseCron("30 8-10/2 * 1,6 *"), at("2026-06-03T09:30:00Z"))).toBe(false);
    // Both day fields restricted: either matches.
    expect(cronMatches(parseCron("0 0 15 * 1"), at("2026-11-30T00:00:00Z"))).toBe(true);
    for (const bad of ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "a * * * *"]) {
      expect(() => parseCron(bad), bad).toThrow();
    }
  });
});
