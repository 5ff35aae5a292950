import type { AnalyticsScope } from "../services/analytics-scope";

/**
 * The star schema the SQL API exposes: each table is a view over the tenant's rows, its columns and
 * types documented here once. The SQL guard replaces every reference to one of these names with its
 * view, filtered to the caller's scope by bound parameters. Times are UTC milliseconds; money is in
 * integer cents.
 */
type Column = { name: string; type: "int64" | "float64" | "string" | "json"; description: string; source?: string };
/**
 * `keys`: column sets naming at most one row (of a project): the SQL guard lets a JOIN through only
 * when its ON equates one of them on one side, so a join never multiplies rows (see sql-guard.ts).
 */
type Table = { name: string; description: string; from: string; scope: "project" | "organization"; columns: Column[]; groupBy?: string; keys: string[][] };

export const starTables: Table[] = [
  {
    name: "dim_project",
    keys: [["project_id"]],
    description: "Projects (datasets) of the organization.",
    from: "projects",
    scope: "organization",
    columns: [
      { name: "project_id", type: "string", description: "Project id", source: "id" },
      { name: "name", type: "string", description: "Project name" },
      { name: "created_at", type: "int64", description: "Creation time, UTC ms" },
    ],
  },
  {
    name: "dim_customer",
    keys: [["customer_key"], ["customer_id"]],
    description: "Customer profiles: aggregates from transactions and the engine's scores.",
    from: "customers",
    scope: "project",
    columns: [
      { name: "customer_key", type: "string", description: "The API's customer id", source: "id" },
      { name: "project_id", type: "string", description: "Project" },
      { name: "customer_id", type: "string", description: "Your customer id" },
      { name: "first_purchase_at", type: "int64", description: "First purchase, UTC ms" },
      { name: "last_purchase_at", type: "int64", description: "Last purchase, UTC ms" },
      { name: "last_transaction_at", type: "int64", description: "Last transaction (purchase or return), UTC ms" },
      { name: "frequency", type: "int64", description: "Purchase orders" },
      { name: "purchase_days", type: "int64", description: "Distinct days with a purchase" },
      { name: "monetary_cents", type: "int64", description: "Purchases minus returns, cents" },
      { name: "return_rate", type: "float64", description: "Returned orders / orders" },
      { name: "rfm_recency_days", type: "int64", description: "Days since the last purchase at the last model run" },
      { name: "churn_score", type: "float64", description: "1 − P(alive) (BG/NBD)" },
      { name: "churn_risk", type: "string", description: "low | medium | high" },
      { name: "expected_purchases_90d", type: "float64", description: "Expected purchases in the next 90 days" },
      { name: "abc_category", type: "string", description: "A | B | C" },
      { name: "uplift_score", type: "float64", description: "Campaign uplift (null without campaign outcomes)" },
      { name: "segment_id", type: "string", description: "Cluster segment" },
      { name: "segment_label", type: "string", description: "Cluster segment label" },
      { name: "extra_features", type: "json", description: "Other columns of the latest transaction (use json_extract)" },
    ],
  },
  {
    name: "dim_segment",
    keys: [["segment_id"]],
    description: "Segments: clusters, rule and hybrid segments.",
    from: "segments",
    scope: "project",
    columns: [
      { name: "segment_id", type: "string", description: "Segment id", source: "id" },
      { name: "project_id", type: "string", description: "Project" },
      { name: "name", type: "string", description: "Name" },
      { name: "kind", type: "string", description: "cluster | rule | hybrid" },
      { name: "size", type: "int64", description: "Members at the last computation" },
      { name: "last_computed_at", type: "int64", description: "UTC ms" },
      { name: "created_at", type: "int64", description: "UTC ms" },
    ],
  },
  {
    name: "fact_transaction",
    keys: [],
    description: "Accepted transaction rows.",
    from: "transactions",
    scope: "project",
    columns: [
      { name: "project_id", type: "string", description: "Project" },
      { name: "customer_id", type: "string", description: "Your customer id (joins dim_customer.customer_id within a project)" },
      { name: "order_id", type: "string", description: "Order or invoice id, if the data had one" },
      { name: "ordered_at", type: "int64", description: "UTC ms" },
      { name: "order_day", type: "string", description: "YYYY-MM-DD as written in the data" },
      { name: "amount_cents", type: "int64", description: "Absolute amount, cents" },
      { name: "is_return", type: "int64", description: "1 for a return" },
      { name: "currency", type: "string", description: "ISO 4217, if known" },
      { name: "quantity", type: "float64", description: "Quantity, if known" },
      { name: "file_id", type: "string", description: "The file the row came from" },
    ],
  },
  {
    name: "fact_daily_sales",
    keys: [["day"]],
    description:
      "Sales per project and day, kept up to date at ingest: the fast source for time series (a month of a million transactions is read from a few rows). " +
      "Orders are counted per file and day: an order whose lines arrive in two uploads counts in both.",
    from: "daily_sales",
    scope: "project",
    groupBy: "project_id, day",
    columns: [
      { name: "project_id", type: "string", description: "Project" },
      { name: "day", type: "string", description: "YYYY-MM-DD as written in the data" },
      { name: "orders", type: "int64", description: "Purchase orders (distinct order ids per customer; a line without one is an order)", source: "SUM(orders)" },
      { name: "purchase_lines", type: "int64", description: "Purchase lines", source: "SUM(purchase_lines)" },
      { name: "revenue_cents", type: "int64", description: "Purchases, cents", source: "SUM(revenue_cents)" },
      { name: "return_lines", type: "int64", description: "Return lines", source: "SUM(return_lines)" },
      { name: "returns_cents", type: "int64", description: "Returns, cents", source: "SUM(returns_cents)" },
      { name: "quantity", type: "float64", description: "Purchased quantity, where the data had one", source: "SUM(quantity)" },
    ],
  },
  {
    name: "fact_segment_membership",
    keys: [["snapshot_date", "segment_id", "customer_id"]],
    description: "Who was in which segment on a day (the last 35 days are kept).",
    from: "segment_membership_snapshots",
    scope: "project",
    columns: [
      { name: "project_id", type: "string", description: "Project" },
      { name: "snapshot_date", type: "string", description: "YYYY-MM-DD (UTC)" },
      { name: "segment_id", type: "string", description: "Segment" },
      { name: "customer_id", type: "string", description: "Your customer id" },
    ],
  },
  {
    name: "fact_segment_size",
    keys: [["segment_id", "day"]],
    description: "Each segment's size per day.",
    from: "segment_daily_sizes",
    scope: "project",
    columns: [
      { name: "project_id", type: "string", description: "Project" },
      { name: "segment_id", type: "string", description: "Segment" },
      { name: "day", type: "string", description: "YYYY-MM-DD (UTC)" },
      { name: "size", type: "int64", description: "Members" },
    ],
  },
  {
    name: "fact_usage",
    keys: [],
    description: "Usage events: rows ingested, API requests, model runs, GenAI operations, segment sizes.",
    from: "usage_events",
    scope: "organization",
    columns: [
      { name: "project_id", type: "string", description: "Project, when the event has one" },
      { name: "type", type: "string", description: "rows_ingested | api_request | model_run | genai_op | segment_size" },
      { name: "api_key_id", type: "string", description: "API key, for API requests" },
      { name: "detail", type: "string", description: "Route of a request, segment of a size…" },
      { name: "value", type: "float64", description: "Rows, 1 per request or run, members" },
      { name: "timestamp", type: "int64", description: "UTC ms" },
    ],
  },
];

export const starTableNames = new Set(starTables.map((t) => t.name));

/** A star table's column names and keys (for the SQL guard's checks of joins and subqueries). */
export function starShape(name: string): { columns: string[]; keys: string[][] } {
  const table = starTables.find((t) => t.name === name)!;
  return { columns: table.columns.map((c) => c.name), keys: table.keys };
}

/** The scoped view of a star table: SQL with `?` placeholders and their values, in order. */
export function starView(name: string, scope: AnalyticsScope): { sql: string; params: unknown[] } {
  const table = starTables.find((t) => t.name === name)!;
  const columns = table.columns.map((c) => (c.source ? `${c.source} AS ${c.name}` : c.name)).join(", ");
  if (table.name === "dim_project") {
    return scope.projectId
      ? { sql: `SELECT ${columns} FROM projects WHERE organization_id = ? AND id = ?`, params: [scope.organizationId, scope.projectId] }
      : { sql: `SELECT ${columns} FROM projects WHERE organization_id = ?`, params: [scope.organizationId] };
  }
  if (table.scope === "organization") {
    return scope.projectId
      ? { sql: `SELECT ${columns} FROM ${table.from} WHERE organization_id = ? AND project_id = ?`, params: [scope.organizationId, scope.projectId] }
      : { sql: `SELECT ${columns} FROM ${table.from} WHERE organization_id = ?`, params: [scope.organizationId] };
  }
  const groupBy = table.groupBy ? ` GROUP BY ${table.groupBy}` : "";
  return scope.projectId
    ? { sql: `SELECT ${columns} FROM ${table.from} WHERE project_id = ?${groupBy}`, params: [scope.projectId] }
    : { sql: `SELECT ${columns} FROM ${table.from} WHERE project_id IN (SELECT id FROM projects WHERE organization_id = ?)${groupBy}`, params: [scope.organizationId] };
}
