import { describe, expect, it } from "vitest";
import { guardQuery, QueryRejected } from "../../src/analytics/sql-guard";

/**
 * The guard's run-away rules, on the query text alone: a JOIN must equate a key of one side, and a
 * subquery in an expression may not refer to the query around it.
 */
const scope = { organizationId: "org_1", projectId: "proj_1" };
const accepts = (query: string) => expect(() => guardQuery(query, scope), query).not.toThrow();
function refuses(query: string, reason: RegExp) {
  let error: unknown;
  try {
    guardQuery(query, scope);
  } catch (e) {
    error = e;
  }
  expect(error, query).toBeInstanceOf(QueryRejected);
  expect((error as Error).message, query).toMatch(reason);
}

describe("SQL guard: joins and subqueries that cannot run away", () => {
  it("accepts joins that equate a key of one side", () => {
    for (const query of [
      "SELECT c.customer_id, s.name FROM dim_customer c JOIN dim_segment s ON s.segment_id = c.segment_id",
      "SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id AND c.project_id = t.project_id",
      "SELECT COUNT(*) FROM dim_customer c JOIN fact_transaction t ON t.customer_id = c.customer_id",
      "SELECT COUNT(*) FROM fact_transaction JOIN dim_customer USING (customer_id)",
      "SELECT d.day, d.revenue_cents, s.size FROM fact_segment_size s JOIN fact_daily_sales d ON d.day = s.day",
      "SELECT * FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id JOIN dim_segment s ON s.segment_id = c.segment_id",
      "WITH per AS (SELECT customer_id, COUNT(*) AS n FROM fact_transaction GROUP BY customer_id) SELECT c.churn_risk, AVG(per.n) FROM dim_customer c JOIN per ON per.customer_id = c.customer_id GROUP BY 1",
      "SELECT t.order_day, m.n FROM fact_transaction t JOIN (SELECT order_day, COUNT(*) AS n FROM fact_transaction GROUP BY 1) m ON m.order_day = t.order_day",
      "WITH a AS (SELECT DISTINCT customer_id FROM fact_transaction) SELECT COUNT(*) FROM fact_transaction t JOIN a ON a.customer_id = t.customer_id",
    ]) {
      accepts(query);
    }
  });

  it("refuses joins where no side's key is equated: rows would multiply", () => {
    for (const query of [
      "select count(*) from fact_transaction a join fact_transaction b on a.amount_cents = b.amount_cents",
      "SELECT COUNT(*) FROM fact_transaction a JOIN fact_transaction b ON a.customer_id = b.customer_id",
      "SELECT COUNT(*) FROM dim_customer a JOIN dim_customer b ON a.churn_risk = b.churn_risk",
      "SELECT COUNT(*) FROM fact_transaction a JOIN fact_transaction b USING (order_day)",
      "SELECT COUNT(*) FROM dim_customer c JOIN dim_segment s ON s.segment_id = c.segment_id OR s.kind = c.churn_risk",
      "SELECT COUNT(*) FROM fact_usage a JOIN fact_usage b ON a.project_id = b.project_id",
      "WITH x AS (SELECT customer_id FROM fact_transaction) SELECT COUNT(*) FROM dim_customer c JOIN x ON x.customer_id = c.segment_id",
      "SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id JOIN fact_segment_membership m ON m.customer_id = c.customer_id",
    ]) {
      refuses(query, /at most one row of one side/);
    }
  });

  it("refuses correlated subqueries, qualified or not, and keeps plain ones", () => {
    for (const query of [
      "SELECT (SELECT COUNT(*) FROM fact_transaction b WHERE b.amount_cents = a.amount_cents) FROM fact_transaction a",
      "SELECT * FROM dim_customer c WHERE EXISTS (SELECT 1 FROM fact_transaction t WHERE t.customer_id = c.customer_id)",
      "SELECT (SELECT COUNT(*) FROM fact_transaction WHERE amount_cents = monetary_cents) FROM dim_customer",
      "SELECT customer_id FROM dim_customer WHERE monetary_cents > (SELECT AVG(amount_cents) FROM fact_transaction WHERE customer_id = dim_customer.customer_id)",
    ]) {
      refuses(query, /correlated subqueries/);
    }
    for (const query of [
      "SELECT customer_id FROM dim_customer WHERE customer_id IN (SELECT customer_id FROM fact_transaction WHERE amount_cents > 10000)",
      "SELECT customer_id FROM dim_customer WHERE segment_id IN (SELECT segment_id FROM dim_segment WHERE kind = 'rule' AND segment_id IN (SELECT segment_id FROM fact_segment_size WHERE size > 10))",
      "SELECT (SELECT COUNT(*) FROM fact_transaction) AS lines, (SELECT MAX(size) AS biggest FROM dim_segment ORDER BY biggest) AS biggest",
      "SELECT name FROM dim_project WHERE project_id IN (SELECT t.project_id FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id)",
      "WITH big AS (SELECT customer_id FROM dim_customer WHERE monetary_cents > 5000) SELECT COUNT(*) FROM fact_transaction WHERE customer_id IN (SELECT customer_id FROM big)",
      "SELECT customer_id FROM dim_customer WHERE monetary_cents > (SELECT AVG(CAST(amount_cents AS INTEGER)) FROM fact_transaction WHERE is_return = 0)",
    ]) {
      accepts(query);
    }
  });

  it("resolves join keys as SQLite does: never a column equated with itself, never an alias SQLite reads elsewhere", () => {
    refuses("SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_id = c.customer_id", /at most one row of one side/);
    refuses("SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON customer_key = customer_key", /at most one row of one side/);
    // GROUP BY customer_id groups by the input column; the output column of that name is amount_cents.
    refuses(
      "WITH g AS (SELECT amount_cents AS customer_id FROM fact_transaction GROUP BY customer_id) SELECT COUNT(*) FROM fact_transaction t JOIN g ON g.customer_id = t.customer_id",
      /at most one row of one side/,
    );
    refuses("WITH d AS (SELECT DISTINCT customer_id AS x, order_day AS x FROM fact_transaction) SELECT COUNT(*) FROM fact_transaction t JOIN d ON d.x = t.customer_id", /at most one row of one side/);
    accepts("WITH g AS (SELECT customer_id AS who, COUNT(*) AS n FROM fact_transaction GROUP BY who) SELECT COUNT(*) FROM dim_customer c JOIN g ON g.who = c.customer_id");
    accepts("WITH g AS (SELECT t.customer_id, COUNT(*) AS n FROM fact_transaction t GROUP BY customer_id) SELECT COUNT(*) FROM dim_customer c JOIN g ON g.customer_id = c.customer_id");
  });

  it("needs project_id in organization-wide joins on keys unique only within a project", () => {
    const organization = { organizationId: "org_1", projectId: null };
    const join = "SELECT COUNT(*) FROM fact_transaction t JOIN dim_customer c ON c.customer_id = t.customer_id";
    expect(() => guardQuery(join, organization)).toThrow(/project_id \+ customer_id/);
    expect(() => guardQuery(`${join} AND c.project_id = t.project_id`, organization)).not.toThrow();
    expect(() => guardQuery("SELECT COUNT(*) FROM fact_transaction JOIN dim_customer USING (project_id, customer_id)", organization)).not.toThrow();
    accepts(join);
  });

  it("refuses recursion however it is spelled, and functions that manufacture large values", () => {
    refuses("WITH a AS (SELECT 1 AS n) SELECT * FROM (WITH a AS (SELECT n FROM a) SELECT * FROM a)", /used twice/);
    refuses("WITH a(n) AS (SELECT 1) SELECT * FROM a", /aliases/);
    refuses("WITH a AS (SELECT n FROM a) SELECT * FROM a", /unknown table a/);
    refuses("SELECT hex(hex(customer_id)) FROM fact_transaction", /inside another function/);
    refuses("SELECT replace(customer_id, 'a', printf('%5d', 1)) FROM fact_transaction", /inside another function/);
    refuses("SELECT printf('%.*c', 100000, 'x')", /not passed as \*/);
    refuses("SELECT printf('%101d', 1)", /at most 100/);
    refuses("SELECT group_concat(customer_id) OVER () FROM fact_transaction", /window function/);
    accepts("SELECT printf('%08.2f', amount_cents / 100.0), hex(customer_id), group_concat(order_day) FROM fact_transaction GROUP BY customer_id");
  });

  it("refuses subqueries whose sources' columns are unknown when a name may be the outer query's", () => {
    refuses("WITH s AS (SELECT * FROM (SELECT 1 AS a UNION SELECT 2)) SELECT (SELECT COUNT(*) FROM s WHERE a = amount_cents) FROM fact_transaction", /may refer to the query around it/);
    refuses("WITH s AS (SELECT * FROM dim_segment) SELECT (SELECT COUNT(*) FROM s WHERE size = monetary_cents) FROM dim_customer", /monetary_cents refers to the query around it/);
    accepts("WITH s AS (SELECT * FROM dim_segment) SELECT customer_id FROM dim_customer WHERE segment_id IN (SELECT segment_id FROM s WHERE size > 10)");
    accepts("SELECT * FROM (VALUES (1, 2)) v JOIN (SELECT DISTINCT 1 AS column1) w USING (column1)");
  });
});
