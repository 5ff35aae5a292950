import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;
const CANARY = `CANARY${crypto.randomUUID().replaceAll("-", "")}`;

async function withData(prefix: string, extra: Record<string, unknown> = {}) {
  const t = await tenant();
  const records = Array.from({ length: 30 }, (_, i) => ({ customer_id: `${prefix}-${i % 10}`, order_date: `2025-0${1 + (i % 6)}-15`, amount: 10 + i, ...extra }));
  await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, records)).job_id);
  return t;
}

const sql = (t: Tenant, query: string, token = t.apiKey.key) => call("POST", "/api/analytics/query", { token, body: { query } });

describe("SQL query API", () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    [a, b] = await Promise.all([withData("mine", { country: "TR" }), withData(CANARY, { country: CANARY })]);
  }, 60_000);

  it("answers typed columns and rows, 64-bit integers as strings", async () => {
    const res = await sql(a, "SELECT customer_id, COUNT(*) AS orders, SUM(amount_cents) AS revenue_cents, AVG(amount_cents) / 300.0 AS avg_amount FROM fact_transaction GROUP BY customer_id ORDER BY customer_id");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.columns).toEqual([
      { name: "customer_id", type: "string" },
      { name: "orders", type: "int64" },
      { name: "revenue_cents", type: "int64" },
      { name: "avg_amount", type: "float64" },
    ]);
    expect(body.rows).toHaveLength(10);
    expect(body.rows[0]).toEqual(["mine-0", "3", "6000", 2000 / 300]);
    expect(body.meta).toMatchObject({ rows: 10, truncated: false, tables: ["fact_transaction"] });
  });

  it("joins, CTEs, UNION, subqueries and JSON paths work over the star schema", async () => {
    const queries = [
      "WITH big AS (SELECT customer_id FROM dim_customer WHERE monetary_cents > 5000) SELECT COUNT(*) AS n FROM big",
      "SELECT c.customer_id, COUNT(t.order_day) AS days FROM dim_customer c JOIN fact_transaction t ON t.customer_id = c.customer_id AND t.project_id = c.project_id GROUP BY 1",
      "SELECT 'tx' AS kind, COUNT(*) FROM fact_transaction UNION ALL SELECT 'customers', COUNT(*) FROM dim_customer",
      "SELECT json_extract(extra_features, '$.country') AS country, COUNT(*) FROM dim_customer GROUP BY 1",
      "SELECT name FROM dim_project WHERE project_id IN (SELECT project_id FROM dim_customer)",
      "select COUNT(*) from DIM_CUSTOMER -- comment",
      'SELECT COUNT(*) FROM "dim_customer" /* quoted */',
      "SELECT strftime('%Y-%m', ordered_at / 1000, 'unixepoch') AS month, SUM(amount_cents) FROM fact_transaction GROUP BY 1 ORDER BY 1",
    ];
    for (const query of queries) {
      const res = await sql(a, query);
      expect(res.status, query).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(CANARY);
    }
    const countries = await json(await sql(a, "SELECT json_extract(extra_features, '$.country') AS country, COUNT(*) AS n FROM dim_customer GROUP BY 1"));
    expect(countries.rows).toEqual([["TR", "10"]]);
  });

  it("refuses every escape attempt with 400 invalid_query and a position, never leaking the other tenant", async () => {
    const attempts = [
      "SELECT * FROM customers",
      "SELECT * FROM sqlite_master",
      "SELECT * FROM main.customers",
      'SELECT * FROM "customers"',
      "SELECT * FROM [transactions]",
      "SELECT * FROM `projects`",
      "SELECT * FROM pragma_table_info('customers')",
      "SELECT * FROM json_each((SELECT group_concat(customer_id) FROM customers))",
      "SELECT name FROM pragma_table_list",
      "SELECT * FROM dim_customer; DELETE FROM customers",
      "DELETE FROM customers",
      "ATTACH DATABASE 'x' AS y",
      "PRAGMA table_info(customers)",
      "SELECT load_extension('x')",
      "SELECT randomblob(1000000000)",
      "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r",
      "WITH r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r",
      "WITH dim_customer AS (SELECT * FROM customers) SELECT * FROM dim_customer",
      "WITH customers AS (SELECT 1) SELECT * FROM customers",
      "SELECT * FROM dim_customer UNION SELECT * FROM customers",
      "SELECT * FROM dim_customer WHERE customer_id IN (SELECT customer_id FROM transactions)",
      "SELECT * FROM dim_customer WHERE customer_id IN transactions",
      "SELECT * FROM dim_customer WHERE 1 = 1 OR customer_id IN (SELECT customer_id FROM customers)",
      "SELECT * FROM fact_transaction a, fact_transaction b",
      "SELECT * FROM fact_transaction a CROSS JOIN fact_transaction b",
      "SELECT * FROM fact_transaction a JOIN fact_transaction b ON 1 = 1",
      "SELECT * FROM fact_transaction NATURAL JOIN dim_customer",
      "SELECT (SELECT sql FROM sqlite_schema LIMIT 1)",
      "SELECT * FROM temp.sqlite_master",
      "SELECT * FROM dim_customer WHERE project_id = ?",
      "INSERT INTO customers SELECT * FROM dim_customer",
      "SELEC 1",
      "",
    ];
    for (const query of attempts) {
      const res = await sql(a, query);
      const text = await res.clone().text();
      expect(text, query).not.toContain(CANARY);
      expect(res.status, query).toBe(400);
      const body = await res.json<{ code: string; detail?: { reason: string } }>();
      expect(["invalid_query", "validation_error"], query).toContain(body.code);
    }
    const positioned = await json(await sql(a, "SELECT *\nFROM customers"));
    expect(positioned.detail.position).toMatchObject({ line: 2, column: 6 });
  });

  it("fact_daily_sales sums each day's sales as fact_transaction does, and leaves with the file", async () => {
    const daily = await json(await sql(a, "SELECT day, orders, purchase_lines, revenue_cents, returns_cents FROM fact_daily_sales ORDER BY day"));
    const raw = await json(
      await sql(
        a,
        "SELECT order_day, COUNT(*), COUNT(*), SUM(amount_cents), 0 FROM fact_transaction WHERE is_return = 0 GROUP BY order_day ORDER BY order_day",
      ),
    );
    expect(daily.rows).toHaveLength(6);
    expect(daily.rows).toEqual(raw.rows);
    expect(daily.rows[0]).toEqual(["2025-01-15", "5", "5", String((10 + 16 + 22 + 28 + 34) * 100), "0"]);

    const t = await tenant();
    const batch = [
      { customer_id: "x", order_date: "2025-03-01", amount: 5, order_id: "o1" },
      { customer_id: "x", order_date: "2025-03-01", amount: 7, order_id: "o1" },
      { customer_id: "y", order_date: "2025-03-01", amount: 2, order_id: "o1" },
      { customer_id: "y", order_date: "2025-03-01", amount: -2 },
    ];
    const accepted = await ingest(t.apiKey.key, t.project.id, batch);
    await waitForJob(t.apiKey.key, accepted.job_id);
    const one = await json(await sql(t, "SELECT day, orders, purchase_lines, revenue_cents, return_lines, returns_cents FROM fact_daily_sales"));
    expect(one.rows).toEqual([["2025-03-01", "2", "3", "1400", "1", "200"]]);
    expect((await call("DELETE", `/api/engine/files/${accepted.file_id}`, { token: t.owner.token })).status).toBe(204);
    expect((await json(await sql(t, "SELECT COUNT(*) FROM fact_daily_sales"))).rows).toEqual([["0"]]);
  });

  it("places SQLite's errors in the tenant's own text and names columns by it, never showing the rewritten query", async () => {
    const query = "SELECT customer_id\nFROM dim_customer WHERE abs('x') > nosuch";
    const unknown = await sql(a, query);
    const body = await expectError(unknown, 400, "invalid_query");
    expect(body.detail.reason).toBe("no such column: nosuch");
    expect(body.error).not.toMatch(/offset|SELECT|__answer|project_id = \?/i);
    expect(body.detail.position).toEqual({ line: 2, column: query.indexOf("nosuch") - query.indexOf("\n"), offset: query.indexOf("nosuch") });
    // An unnamed column holding a table reference is named by the tenant's text, not the view it stands for.
    const named = await json(await sql(a, "SELECT (SELECT COUNT(*) FROM fact_transaction) FROM fact_transaction LIMIT 1"));
    expect(named.columns).toEqual([{ name: "(SELECT COUNT(*) FROM fact_transaction)", type: "int64" }]);
    expect(named.rows).toEqual([["30"]]);
    const plain = await json(await sql(a, "SELECT customer_id, COUNT(*) FROM dim_customer d GROUP BY 1 LIMIT 1"));
    expect(plain.columns.map((c: { name: string }) => c.name)).toEqual(["customer_id", "COUNT(*)"]);
  });

  it("refuses a join that would multiply rows, before running it", async () => {
    const res = await sql(a, "select count(*) from fact_transaction a join fact_transaction b on a.amount_cents = b.amount_cents");
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe("invalid_query");
    expect(body.detail.reason).toMatch(/at most one row of one side/);
    expect(body.detail.position).toMatchObject({ line: 1 });
  });

  it("keeps OR 1=1 and cross-project predicates inside the caller's scope", async () => {
    for (const query of [
      `SELECT customer_id FROM dim_customer WHERE 1 = 1 OR project_id = '${b.project.id}'`,
      `SELECT * FROM fact_transaction WHERE project_id = '${b.project.id}'`,
      `SELECT * FROM fact_daily_sales WHERE project_id = '${b.project.id}' OR 1 = 1`,
      `SELECT * FROM dim_project WHERE project_id = '${b.project.id}' OR 1=1`,
      "SELECT * FROM fact_usage",
    ]) {
      const res = await sql(a, query);
      expect(res.status, query).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(b.project.id);
    }
  });

  it("never returns a canary row for generated queries", async () => {
    const table = fc.constantFrom(
      "dim_customer", "fact_transaction", "dim_segment", "fact_usage", "dim_project", "DIM_CUSTOMER", '"dim_customer"', "fact_daily_sales",
      "customers", "daily_sales", "transactions", "main.customers", "sqlite_master", "x", "projects", "[customers]",
    );
    const column = fc.constantFrom("customer_id", "*", "project_id", "extra_features", "COUNT(*)", "name", "sql");
    const predicate = fc.constantFrom(
      "", " WHERE 1=1", " WHERE 1=1 OR 1=1", ` WHERE project_id = '${b.project.id}'`, " WHERE customer_id LIKE '%'", " -- tail",
      " /* c */ WHERE 1", ` WHERE customer_id IN (SELECT customer_id FROM customers)`, " WHERE customer_id IN customers",
    );
    const tail = fc.constantFrom("", " UNION SELECT customer_id FROM customers", " UNION ALL SELECT 1", "; SELECT 1", " LIMIT 5");
    const query = fc.tuple(column, table, predicate, tail).map(([c, t, p, tl]) => `SELECT ${c} FROM ${t}${p}${tl}`);
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await sql(a, q, a.owner.token);
        const text = await res.text();
        expect(res.status, q).not.toBe(500);
        expect(text, q).not.toContain(CANARY);
      }),
      { numRuns: 150, seed: 20261122 },
    );
  }, 60_000);

  it("documents the schema and the JSON paths of extra_features", async () => {
    const schema = await json(await call("GET", "/api/analytics/schema", { token: a.apiKey.key }));
    expect(schema.dialect).toBe("sqlite");
    expect(schema.tables.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["dim_customer", "dim_segment", "dim_project", "fact_transaction", "fact_segment_membership", "fact_usage"]));
    expect(schema.tables.find((t: { name: string }) => t.name === "dim_customer").keys).toEqual([["customer_key"], ["project_id", "customer_id"]]);
    const signals = await json(await call("GET", "/api/analytics/signals/metadata", { token: a.owner.token }));
    expect(signals.data).toEqual([{ project_id: a.project.id, path: "$.country", types: [{ type: "text", customers: 10 }] }]);
    // Kept for the purchases version, computed again once the data moves.
    const cached = await env.DB.prepare("SELECT purchases_version FROM project_signals WHERE project_id = ?").bind(a.project.id).first<{ purchases_version: number }>();
    expect(cached?.purchases_version).toBeGreaterThan(0);
    await waitForJob(a.apiKey.key, (await ingest(a.apiKey.key, a.project.id, [{ customer_id: "mine-new", order_date: "2025-07-01", amount: 1, tier: 3 }])).job_id);
    const moved = await json(await call("GET", "/api/analytics/signals/metadata", { token: a.apiKey.key }));
    expect(moved.data).toEqual([
      { project_id: a.project.id, path: "$.country", types: [{ type: "text", customers: 10 }] },
      { project_id: a.project.id, path: "$.tier", types: [{ type: "integer", customers: 1 }] },
    ]);
  });

  it("needs a credential and a valid body", async () => {
    await expectError(await call("POST", "/api/analytics/query", { body: { query: "SELECT 1" } }), 401, "unauthorized");
    await expectError(await call("POST", "/api/analytics/query", { token: a.apiKey.key, body: {} }), 400, "validation_error");
    await expectError(await call("POST", "/api/analytics/query", { token: a.apiKey.key, body: { query: "SELECT 1", project_id: b.project.id } }), 403, "project_mismatch");
    await expectError(await call("POST", "/api/analytics/query", { token: a.owner.token, body: { query: "SELECT 1", project_id: b.project.id } }), 404, "not_found");
  });
});
