import type { AnalyticsScope } from "./scope";

/**
 * The star schema the SQL API exposes. Its rows live in the organization's AnalyticsWarehouse (a
 * Durable Object's SQLite, durable-objects/analytics-warehouse.ts), one table per star table (`from`)
 * holding every project of the organization; the SQL guard replaces each reference with its view,
 * narrowed to the caller's project by a bound parameter. Columns and types are documented here once.
 * Times are UTC milliseconds; money is in integer cents.
 */
type Column = { name: string; type: "int64" | "float64" | "string" | "json"; description: string; source?: string };
/**
 * `keys`: column sets naming at most one row of the organization: the SQL guard lets a JOIN through
 * only when its ON equates one of them on one side, so a join never multiplies rows (see
 * sql-guard.ts). Ids the tenant chose (customer_id, a day) are unique only within a project, so their
 * keys include project_id; a project-scoped caller sees one project and may leave it out.
 */
type Table = { name: string; description: string; from: string; columns: Column[]; groupBy?: string; keys: string[][] };

export const starTables: Table[] = [
  {
    name: "dim_project",
    keys: [["project_id"]],
    description: "Projects (datasets) of the organization.",
    from: "dim_project",
    columns: [
      { name: "project_id", type: "string", description: "Project id" },
      { name: "name", type: "string", description: "Project name" },
      { name: "created_at", type: "int64", description: "Creation time, UTC ms" },
    ],
  },
  {
    name: "dim_customer",
    keys: [["customer_key"], ["project_id", "customer_id"]],
    description: "Customer profiles: aggregates from transactions and the engine's scores.",
    from: "dim_customer",
    columns: [
      { name: "customer_key", type: "string", description: "The API's customer id (unique across projects)" },
      { name: "project_id", type: "string", description: "Project" },
      { name: "customer_id", type: "string", description: "Your customer id (unique within a project)" },
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
    from: "dim_segment",
    columns: [
      { name: "segment_id", type: "string", description: "Segment id" },
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
    from: "fact_transaction",
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
    keys: [["project_id", "day"]],
    description:
      "Sales per project and day, kept up to date at ingest: the fast source for time series (a month of a million transactions is read from a few rows). " +
      "Orders are counted per file and day: an order whose lines arrive in two uploads counts in both.",
    from: "daily_sales_by_file",
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
    from: "fact_segment_membership",
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
    from: "fact_segment_size",
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
    from: "fact_usage",
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

/**
 * A star table's column names and keys as the caller sees them (for the SQL guard's checks of joins
 * and subqueries): within one project, project_id drops out of the keys.
 */
export function starShape(name: string, scope: AnalyticsScope): { columns: string[]; keys: string[][] } {
  const table = starTables.find((t) => t.name === name)!;
  const keys = scope.projectId ? table.keys.map((key) => (key.length > 1 ? key.filter((c) => c !== "project_id") : key)) : table.keys;
  return { columns: table.columns.map((c) => c.name), keys };
}

/**
 * The scoped view of a star table over the warehouse's tables: SQL with `?` placeholders and their
 * values, in order. The warehouse holds one organization, so only a project scope filters.
 */
export function starView(name: string, scope: AnalyticsScope): { sql: string; params: unknown[] } {
  const table = starTables.find((t) => t.name === name)!;
  const columns = table.columns.map((c) => (c.source ? `${c.source} AS ${c.name}` : c.name)).join(", ");
  const groupBy = table.groupBy ? ` GROUP BY ${table.groupBy}` : "";
  return scope.projectId
    ? { sql: `SELECT ${columns} FROM ${table.from} WHERE project_id = ?${groupBy}`, params: [scope.projectId] }
    : { sql: `SELECT ${columns} FROM ${table.from}${groupBy}`, params: [] };
}
