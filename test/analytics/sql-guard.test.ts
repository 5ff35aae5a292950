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
});
