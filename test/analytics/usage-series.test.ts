import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnalyticsEngineStore } from "../../src/analytics/ae-store";
import { D1AnalyticsStore } from "../../src/analytics/d1-store";
import { toDataPoint } from "../../src/analytics/schema";
import { call, expectError, json, tenant } from "../helpers";

const at = (iso: string) => Date.parse(iso);

async function seedEvents(organizationId: string, projectId: string) {
  await new D1AnalyticsStore(env.DB).record([
    // Kolkata midnight is 18:30 UTC the day before: these two fall on different local days.
    { organizationId, type: "rows_ingested", projectId, value: 100, timestamp: at("2026-01-10T18:29:00Z") },
    { organizationId, type: "rows_ingested", projectId, value: 50, timestamp: at("2026-01-10T18:31:00Z") },
    { organizationId, type: "api_request", projectId, apiKeyId: "key-1", value: 1, timestamp: at("2026-01-10T18:40:00Z") },
    { organizationId, type: "api_request", projectId, apiKeyId: "key-2", value: 1, timestamp: at("2026-01-11T10:00:00Z") },
    { organizationId, type: "model_run", projectId, value: 1, timestamp: at("2026-01-12T03:00:00Z") },
  ]);
}

describe("GET /api/organizations/:orgId/analytics/usage", () => {
  it("buckets by local days in the zone, with empty days as zeros", async () => {
    const t = await tenant();
    await seedEvents(t.organization.id, t.project.id);
    const res = await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2026-01-09T18:30:00Z&end=2026-01-13T18:30:00Z&tz=Asia/Kolkata`, { token: t.owner.token });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.meta).toEqual({ organization_id: t.organization.id, start: "2026-01-09T18:30:00.000Z", end: "2026-01-13T18:30:00.000Z", granularity: "day", group_by: [], tz: "Asia/Kolkata" });
    expect(body.data.map((b: { ts: string }) => b.ts)).toEqual([
      "2026-01-10T00:00:00+05:30",
      "2026-01-11T00:00:00+05:30",
      "2026-01-12T00:00:00+05:30",
      "2026-01-13T00:00:00+05:30",
    ]);
    expect(body.data.map((b: any) => b.values[0])).toEqual([
      { events: 100, api_requests: 0, model_runs: 0, genai_ops: 0, dimensions: {} },
      { events: 50, api_requests: 2, model_runs: 0, genai_ops: 0, dimensions: {} },
      { events: 0, api_requests: 0, model_runs: 1, genai_ops: 0, dimensions: {} },
      { events: 0, api_requests: 0, model_runs: 0, genai_ops: 0, dimensions: {} },
    ]);
  });

  it("groups by api_key and type, with every combination in every bucket", async () => {
    const t = await tenant();
    await seedEvents(t.organization.id, t.project.id);
    const body = await json(
      await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2026-01-10T00:00:00Z&end=2026-01-12T00:00:00Z&group_by=api_key&group_by=type`, { token: t.owner.token }),
    );
    expect(body.meta.group_by).toEqual(["api_key", "type"]);
    expect(body.data).toHaveLength(2);
    for (const bucket of body.data) expect(bucket.values).toHaveLength(3);
    const day11 = body.data[1].values.find((v: any) => v.dimensions.api_key_id === "key-2");
    expect(day11).toMatchObject({ api_requests: 1, dimensions: { api_key_id: "key-2", type: "api_request" } });
  });

  it("cuts hour and month buckets where the zone's clock does, and caps the bucket count", async () => {
    const t = await tenant();
    await seedEvents(t.organization.id, t.project.id);
    const hours = await json(await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2026-01-10T18:00:00Z&end=2026-01-10T20:00:00Z&granularity=hour&tz=Asia/Kathmandu`, { token: t.owner.token }));
    expect(hours.data.map((b: { ts: string }) => b.ts)).toEqual(["2026-01-10T23:00:00+05:45", "2026-01-11T00:00:00+05:45", "2026-01-11T01:00:00+05:45"]);
    // 18:29Z and 18:31Z are 00:14 and 00:16 in Kathmandu (+05:45).
    expect(hours.data.map((b: any) => b.values[0].events)).toEqual([0, 150, 0]);
    const months = await json(await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2025-11-01T00:00:00Z&end=2026-02-01T00:00:00Z&granularity=month&limit=2`, { token: t.owner.token }));
    expect(months.data.map((b: { ts: string }) => b.ts)).toEqual(["2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"]);
    expect(months.data[1].values[0]).toMatchObject({ events: 150, api_requests: 2, model_runs: 1 });
  });

  it("answers the latest buckets, ending with the current one, when the range holds far more than limit", async () => {
    const t = await tenant();
    await seedEvents(t.organization.id, t.project.id);
    const res = await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2000-01-01T00:00:00Z&granularity=hour`, { token: t.owner.token });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.data).toHaveLength(500);
    const last = Date.parse(body.data.at(-1).ts);
    expect(Date.now() - last).toBeLessThan(3_600_000);
    expect(Date.now() - last).toBeGreaterThanOrEqual(0);
    // meta.start is where the answered buckets begin, not the requested 2000-01-01.
    expect(body.meta.start).toBe(new Date(Date.parse(body.data[0].ts)).toISOString());
    const days = await json(await call("GET", `/api/organizations/${t.organization.id}/analytics/usage?start=2000-01-01T00:00:00Z&end=2026-01-13T00:00:00Z&limit=3`, { token: t.owner.token }));
    expect(days.data.map((b: { ts: string }) => b.ts)).toEqual(["2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z"]);
    expect(days.data.map((b: any) => b.values[0].model_runs)).toEqual([0, 0, 1]);
  });

  it("answers 400 for bad dates, unknown zones and groups, reversed ranges and limits out of range", async () => {
    const t = await tenant();
    const base = `/api/organizations/${t.organization.id}/analytics/usage`;
    for (const q of ["start=yesterday", "end=2026-13-01T00:00:00Z", "tz=Mars/Olympus", "group_by=planet", "group_by=type,planet", "start=2026-02-01T00:00:00Z&end=2026-01-01T00:00:00Z", "limit=0", "limit=501", "granularity=week"]) {
      await expectError(await call("GET", `${base}?${q}`, { token: t.owner.token }), 400, "validation_error");
    }
  });

  it("is for members only: another tenant's organization is 404, an API key 403", async () => {
    const a = await tenant();
    const b = await tenant();
    await expectError(await call("GET", `/api/organizations/${b.organization.id}/analytics/usage`, { token: a.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/organizations/${a.organization.id}/analytics/usage`, { token: a.apiKey.key }), 403, "session_required");
  });
});

describe("Analytics Engine store", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes data points from the shared column map", () => {
    expect(toDataPoint({ organizationId: "org_1", type: "api_request", projectId: "proj_1", apiKeyId: "k", detail: "GET /x", value: 1 })).toEqual({
      indexes: ["org_1"],
      blobs: ["api_request", "proj_1", "k", "GET /x"],
      doubles: [1],
    });
  });

  it("queries the SQL API weighted by _sample_interval and parses the answer", async () => {
    const requests: Array<{ url: string; body: string; auth: string | null }> = [];
    const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push({ url: String(input), body: String(init?.body), auth: new Headers(init?.headers).get("Authorization") });
      return Response.json({ meta: [], data: [{ slot: 1768069800, type: "rows_ingested", projectId: "proj_1", value: 150 }], rows: 1 });
    }) as typeof fetch;
    const written: AnalyticsEngineDataPoint[] = [];
    const store = new AnalyticsEngineStore({ writeDataPoint: (p?: AnalyticsEngineDataPoint) => written.push(p!) }, { accountId: "acc", apiToken: "tok", dataset: "segmento_usage", fetch: fakeFetch });
    const rows = await store.usage({ organizationId: "org_1", projectId: "proj_1", types: ["rows_ingested"], start: 1768069800000, end: 1768156200000, slotMinutes: 15, dimensions: ["type", "projectId"] });
    expect(rows).toEqual([{ slot: 1768069800000, type: "rows_ingested", projectId: "proj_1", value: 150 }]);
    expect(requests[0]!.url).toBe("https://api.cloudflare.com/client/v4/accounts/acc/analytics_engine/sql");
    expect(requests[0]!.auth).toBe("Bearer tok");
    const sql = requests[0]!.body;
    expect(sql).toContain("SUM(_sample_interval * double1) AS value");
    expect(sql).toContain("index1 = 'org_1'");
    expect(sql).toContain("blob2 = 'proj_1'");
    expect(sql).toContain("blob1 IN ('rows_ingested')");
    expect(sql).toContain("intDiv(toUInt32(timestamp), 900) * 900 AS slot");
    expect(sql).toContain("FROM segmento_usage");
    await store.record([{ organizationId: "org_1", type: "model_run", value: 1 }]);
    expect(written).toHaveLength(1);
  });

  it("refuses values that do not look like ids instead of pasting them into SQL", async () => {
    const store = new AnalyticsEngineStore({ writeDataPoint: () => undefined }, { accountId: "a", apiToken: "t", dataset: "d", fetch: (async () => Response.json({ data: [] })) as typeof fetch });
    await expect(store.usage({ organizationId: "org_1' OR '1'='1", start: 0, end: 1, slotMinutes: 15, dimensions: [] })).rejects.toThrow(/refusing/);
  });

  it("reports a failing SQL API as an error", async () => {
    const store = new AnalyticsEngineStore({ writeDataPoint: () => undefined }, { accountId: "a", apiToken: "t", dataset: "d", fetch: (async () => new Response("no", { status: 503 })) as typeof fetch });
    await expect(store.usage({ organizationId: "org_1", start: 0, end: 1, slotMinutes: 15, dimensions: [] })).rejects.toThrow(/503/);
  });
});
