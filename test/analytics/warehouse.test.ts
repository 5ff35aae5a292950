import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runWarehouseQuery, ROW_CAP, SIZE_CAP_BYTES } from "../../src/analytics/warehouse-query";
import { call, createApiKey, createProject, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const sql = (token: string, query: string, extra: { project_id?: string; path?: string } = {}) =>
  call("POST", extra.path ?? "/api/analytics/query", { token, body: { query, ...(extra.project_id && { project_id: extra.project_id }) } });
const rowsOf = async (res: Response) => {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.rows as unknown[][];
};
const warehouseOf = (organizationId: string) => env.ANALYTICS_WAREHOUSE.get(env.ANALYTICS_WAREHOUSE.idFromName(organizationId));

const records = (prefix: string, n: number, day = "2025-02-10") =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `${prefix}-${i % 5}`, order_date: day, amount: 10 + i, order_id: `${prefix}-o${i}` }));

describe("AnalyticsWarehouse: the SQL API runs in the organization's own Durable Object", () => {
  let t: Tenant;
  let second: { id: string };
  beforeAll(async () => {
    t = await tenant();
    second = await createProject(t.owner.token, t.organization.id, "Second");
    const key = await createApiKey(t.owner.token, second.id);
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, records("a", 20))).job_id);
    await waitForJob(key.key, (await ingest(key.key, second.id, records("a", 10))).job_id);
  }, 60_000);

  afterEach(() => vi.restoreAllMocks());

  it("sends no tenant-written text to D1: the query runs in the warehouse", async () => {
    const marker = `m${crypto.randomUUID().replaceAll("-", "")}`;
    const seen: string[] = [];
    const d1 = Object.getPrototypeOf(env.DB) as D1Database;
    const prepare = d1.prepare;
    const exec = d1.exec;
    vi.spyOn(d1, "prepare").mockImplementation(function (this: D1Database, query: string) {
      seen.push(query);
      return prepare.call(this, query);
    });
    vi.spyOn(d1, "exec").mockImplementation(function (this: D1Database, query: string) {
      seen.push(query);
      return exec.call(this, query);
    });
    const rows = await rowsOf(await sql(t.apiKey.key, `SELECT '${marker}' AS marker, COUNT(*) AS n FROM fact_transaction`));
    expect(rows).toEqual([[marker, "20"]]);
    // D1 was used (authentication, the catch-up), and never with the tenant's text.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((q) => q.includes(marker) || q.includes("fact_transaction"))).toEqual([]);
  });

  it("holds the organization's projects, and nothing of another organization", async () => {
    const other = await tenant();
    await waitForJob(other.apiKey.key, (await ingest(other.apiKey.key, other.project.id, records("other", 7))).job_id);
    expect(await rowsOf(await sql(t.owner.token, "SELECT project_id, COUNT(*) FROM fact_transaction GROUP BY 1 ORDER BY 2 DESC"))).toEqual([
      [t.project.id, "20"],
      [second.id, "10"],
    ]);
    const stats = await warehouseOf(t.organization.id).stats();
    expect(stats.rows.fact_transaction).toBe(30);
    expect(stats.rows.dim_project).toBe(2);
    expect(stats.bytes).toBeGreaterThan(0);
    // The other organization's warehouse holds its own 7 rows, none of these.
    await warehouseOf(other.organization.id).refresh(other.organization.id);
    expect((await warehouseOf(other.organization.id).stats()).rows.fact_transaction).toBe(7);
  });

  it("takes project_id from the query string or the body, and refuses two that differ", async () => {
    const count = "SELECT COUNT(*) FROM fact_transaction";
    expect(await rowsOf(await sql(t.owner.token, count, { path: `/api/analytics/query?project_id=${second.id}` }))).toEqual([["10"]]);
    expect(await rowsOf(await sql(t.owner.token, count, { project_id: t.project.id }))).toEqual([["20"]]);
    await expectError(await sql(t.owner.token, count, { project_id: t.project.id, path: `/api/analytics/query?project_id=${second.id}` }), 400, "validation_error");
    await expectError(await sql(t.owner.token, count, { path: "/api/analytics/query?project_id=proj_unknown" }), 404, "not_found");
  });

  it("keys unique only within a project need project_id in an organization-wide join", async () => {
    // Both projects have customers a-0 … a-4: a join on customer_id alone would pair them across projects.
    const loose = "SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id";
    const body = await expectError(await sql(t.owner.token, loose), 400, "invalid_query");
    expect(body.detail.reason).toMatch(/project_id \+ customer_id/);
    expect(await rowsOf(await sql(t.owner.token, `${loose} AND c.project_id = t.project_id`))).toEqual([["30"]]);
    // Within one project customer_id is a key on its own.
    expect(await rowsOf(await sql(t.owner.token, loose, { project_id: t.project.id }))).toEqual([["20"]]);
    expect(await rowsOf(await sql(t.apiKey.key, "SELECT COUNT(*) FROM fact_transaction JOIN dim_customer USING (customer_id)"))).toEqual([["20"]]);
  });

  it("refuses or bounds every escape found against the guard, each within seconds", async () => {
    const refused = [
      // A CTE name reused in a nested WITH: SQLite reads the inner one as reading itself.
      "WITH a AS (SELECT 1 AS n) SELECT * FROM (WITH a AS (SELECT n + 1 AS n FROM a UNION ALL SELECT n FROM a) SELECT COUNT(*) FROM a)",
      "WITH a AS (SELECT customer_id FROM fact_transaction) SELECT (WITH a AS (SELECT * FROM a) SELECT COUNT(*) FROM a)",
      // A JOIN whose ON equates a column with itself.
      "SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_key = c.customer_key",
      "SELECT COUNT(*) FROM fact_transaction a JOIN fact_transaction b ON b.customer_id = b.customer_id",
      // A GROUP BY name SQLite resolves to the input column, not the alias the guard would see.
      "WITH g AS (SELECT amount_cents AS customer_id, customer_id AS k FROM fact_transaction GROUP BY customer_id) SELECT COUNT(*) FROM fact_transaction t JOIN g ON g.customer_id = t.amount_cents",
      // DISTINCT with a duplicated alias: the "key" is two columns under one name.
      "WITH d AS (SELECT DISTINCT customer_id AS x, amount_cents AS x FROM fact_transaction) SELECT COUNT(*) FROM fact_transaction t JOIN d ON d.x = t.customer_id",
      // Correlated subqueries over CTEs selecting *.
      "WITH s AS (SELECT * FROM dim_segment) SELECT (SELECT COUNT(*) FROM s WHERE size = monetary_cents) FROM dim_customer",
      "WITH s AS (SELECT * FROM (SELECT 1 AS a UNION SELECT 2)) SELECT (SELECT COUNT(*) FROM s WHERE a = amount_cents) FROM fact_transaction",
      // Functions that manufacture large values.
      "SELECT hex(hex(hex(printf('%.*c', 100000, 'x'))))",
      "SELECT printf('%.*c', 100000, 'x')",
      "SELECT printf('%100000c', 'x')",
      "SELECT format('%.5000000s', customer_id) FROM fact_transaction",
      "SELECT replace(hex(customer_id), '3', hex(customer_id)) FROM fact_transaction",
      "SELECT length(group_concat(customer_id) OVER (ORDER BY ordered_at)) FROM fact_transaction",
      "SELECT printf(customer_id, 1) FROM fact_transaction",
      "SELECT zeroblob(1000000000)",
    ];
    for (const query of refused) {
      const started = Date.now();
      const res = await sql(t.owner.token, query);
      const body = await json(res);
      expect(res.status, `${query}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.code, query).toBe("invalid_query");
      expect(Date.now() - started, query).toBeLessThan(5_000);
    }
    for (const query of [
      "VALUES (1)",
      "SELECT printf('%5.2f', 3.14159) AS s, hex(customer_id) FROM fact_transaction LIMIT 1",
      "WITH s AS (SELECT * FROM dim_segment) SELECT COUNT(*) FROM dim_customer WHERE segment_id IN (SELECT segment_id FROM s)",
      "WITH g AS (SELECT customer_id, project_id, COUNT(*) AS n FROM fact_transaction GROUP BY customer_id, project_id) SELECT SUM(g.n) FROM dim_customer c JOIN g ON g.customer_id = c.customer_id AND g.project_id = c.project_id",
    ]) {
      expect((await sql(t.owner.token, query)).status, query).toBe(200);
    }
  });

  it("answers VALUES, exact 64-bit integers and typed reals", async () => {
    const values = await json(await sql(t.apiKey.key, "SELECT * FROM (VALUES (1, 'x'), (2, 'y'))"));
    expect(values.columns).toEqual([
      { name: "column1", type: "int64" },
      { name: "column2", type: "string" },
    ]);
    expect(values.rows).toEqual([
      ["1", "x"],
      ["2", "y"],
    ]);
    const big = await json(await sql(t.apiKey.key, "SELECT 9007199254740993 AS big, -9223372036854775808 AS least, 3.0 AS real, 0.5 AS half"));
    expect(big.rows).toEqual([["9007199254740993", "-9223372036854775808", 3, 0.5]]);
    expect(big.columns.map((c: { type: string }) => c.type)).toEqual(["int64", "int64", "float64", "float64"]);
    const mixed = await json(await sql(t.apiKey.key, "SELECT 1 AS v UNION ALL SELECT 1.5"));
    expect(mixed.columns).toEqual([{ name: "v", type: "float64" }]);
    expect(mixed.rows).toEqual([[1], [1.5]]);
  });

  it("caps an answer at 10,000 rows and at 5 MB while reading the cursor", async () => {
    const stub = warehouseOf(`cap-${crypto.randomUUID()}`);
    const answers = await runInDurableObject(stub, (_, state) => {
      const many = runWarehouseQuery(state.storage.sql, { sql: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 20000) SELECT i FROM n", params: [], tables: [], spans: [] });
      const wide = runWarehouseQuery(state.storage.sql, { sql: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 5000) SELECT i, printf('%.2000c', 'x') AS pad FROM n", params: [], tables: [], spans: [] });
      return { many, wide };
    });
    if (!answers.many.ok || !answers.wide.ok) throw new Error("expected answers");
    expect(answers.many.rows).toHaveLength(ROW_CAP);
    expect(answers.many).toMatchObject({ truncated: true, truncatedBy: "rows" });
    expect(answers.wide).toMatchObject({ truncated: true, truncatedBy: "size" });
    expect(answers.wide.rows.length).toBeLessThan(5000);
    expect(answers.wide.rows.length * 2000).toBeLessThanOrEqual(SIZE_CAP_BYTES);
  });

  it("catches up with ingest, file deletion, a model run, a new rule segment and a rerun before answering; concurrent queries see whole updates", async () => {
    const fresh = await tenant();
    const count = "SELECT COUNT(*) FROM fact_transaction";
    expect(await rowsOf(await sql(fresh.apiKey.key, count))).toEqual([["0"]]);
    const first = await ingest(fresh.apiKey.key, fresh.project.id, records("f", 40, "2025-03-01"));
    await waitForJob(fresh.apiKey.key, first.job_id);
    const second = await ingest(fresh.apiKey.key, fresh.project.id, records("g", 25, "2025-03-02"));
    await waitForJob(fresh.apiKey.key, second.job_id);
    // Several queries at once, during the catch-up: each sees both files, whole.
    const consistent = "SELECT COUNT(*), (SELECT SUM(purchase_lines) FROM fact_daily_sales), (SELECT COUNT(*) FROM dim_customer) FROM fact_transaction";
    const answers = await Promise.all(Array.from({ length: 5 }, () => sql(fresh.apiKey.key, consistent).then(rowsOf)));
    for (const rows of answers) expect(rows).toEqual([["65", "65", "10"]]);

    expect((await call("DELETE", `/api/engine/files/${first.file_id}`, { token: fresh.owner.token })).status).toBe(204);
    expect(await rowsOf(await sql(fresh.apiKey.key, consistent))).toEqual([["25", "25", "5"]]);

    // The model run after ingest writes profiles and segments to D1; the next query shows them.
    const profiled = () =>
      env.DB.prepare("SELECT c.customer_id, c.segment_id, s.name FROM customers c JOIN segments s ON s.id = c.segment_id WHERE c.project_id = ? ORDER BY 1").bind(fresh.project.id).raw();
    await vi.waitFor(
      async () => {
        const overview = await json(await call("GET", `/api/engine/projects/${fresh.project.id}/overview`, { token: fresh.owner.token }));
        expect(overview.last_run?.status).toBe("completed");
        expect(await profiled()).toHaveLength(5);
      },
      { timeout: 30_000, interval: 300 },
    );
    const profiles = "SELECT c.customer_id, c.segment_id, s.name FROM dim_customer c JOIN dim_segment s ON s.segment_id = c.segment_id ORDER BY 1";
    expect(await rowsOf(await sql(fresh.apiKey.key, profiles))).toEqual(await profiled());
    // A rerun replaces the project's profiles and segments; a rule segment added in between shows too.
    const rule = await call("POST", `/api/engine/projects/${fresh.project.id}/segments`, { token: fresh.owner.token, body: { name: "Frequent", rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] } });
    expect(rule.status, await rule.clone().text()).toBe(201);
    const rerun = await call("POST", `/api/engine/projects/${fresh.project.id}/segmentation`, { token: fresh.owner.token });
    expect(rerun.status).toBe(202);
    await waitForJob(fresh.owner.token, (await json(rerun)).job_id, 30_000);
    expect(await rowsOf(await sql(fresh.apiKey.key, profiles))).toEqual(await profiled());
    const segmentsInD1 = await env.DB.prepare("SELECT id, name, size FROM segments WHERE project_id = ? ORDER BY id").bind(fresh.project.id).raw();
    expect(await rowsOf(await sql(fresh.apiKey.key, "SELECT segment_id, name, CAST(size AS REAL) FROM dim_segment ORDER BY segment_id"))).toEqual(segmentsInD1);
    const inD1 = await env.DB.prepare("SELECT COUNT(*) AS n FROM segment_membership_snapshots WHERE project_id = ?").bind(fresh.project.id).first<{ n: number }>();
    expect(await rowsOf(await sql(fresh.apiKey.key, "SELECT COUNT(*) FROM fact_segment_membership"))).toEqual([[String(inD1!.n)]]);
  }, 60_000);

  it("a file failed by the dead-letter cleanup loses its rows here too", async () => {
    const fresh = await tenant();
    const accepted = await ingest(fresh.apiKey.key, fresh.project.id, records("d", 9));
    await waitForJob(fresh.apiKey.key, accepted.job_id);
    expect(await rowsOf(await sql(fresh.apiKey.key, "SELECT COUNT(*) FROM fact_transaction"))).toEqual([["9"]]);
    // What the dead-letter consumer does to D1: the rows go, the file is marked failed.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM transactions WHERE file_id = ?").bind(accepted.file_id),
      env.DB.prepare("UPDATE files SET status = 'failed' WHERE id = ?").bind(accepted.file_id),
    ]);
    expect(await rowsOf(await sql(fresh.apiKey.key, "SELECT COUNT(*), (SELECT COUNT(*) FROM fact_daily_sales) FROM fact_transaction"))).toEqual([["0", "0"]]);
  });

  it("a deleted project leaves the warehouse; what is held is not read again", async () => {
    const gone = await createProject(t.owner.token, t.organization.id, "Gone");
    const key = await createApiKey(t.owner.token, gone.id);
    await waitForJob(key.key, (await ingest(key.key, gone.id, records("z", 12))).job_id);
    expect(await rowsOf(await sql(t.owner.token, "SELECT COUNT(*) FROM fact_transaction", { project_id: gone.id }))).toEqual([["12"]]);
    const again = await warehouseOf(t.organization.id).refresh(t.organization.id);
    expect(again.transactions).toBe(0);
    expect((await call("DELETE", `/api/projects/${gone.id}`, { token: t.owner.token })).status).toBe(204);
    await vi.waitFor(async () => {
      const held = await runInDurableObject(warehouseOf(t.organization.id), (_, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM fact_transaction WHERE project_id = ?1) + (SELECT COUNT(*) FROM dim_customer WHERE project_id = ?1) AS n", gone.id).one().n,
      );
      expect(held).toBe(0);
    });
  });
});
