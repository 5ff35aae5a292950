/**
 * The tables of an organization's AnalyticsWarehouse (its Durable Object's SQLite): the star tables of
 * star-schema.ts under their own names (fact_daily_sales is summed from daily_sales_by_file), and the
 * bookkeeping of what has been copied from D1 (`sync_*`). Tenant SQL reaches only the star views the
 * guard writes; the bookkeeping holds nothing but this organization's ids and versions anyway.
 * Fact tables are clustered by project (WITHOUT ROWID, project_id first): a project-scoped query reads
 * one range, a file's rows arrive in key order at the end of it, and no secondary index has to be kept
 * up on a million-row copy.
 */
export const WAREHOUSE_DDL = `
CREATE TABLE IF NOT EXISTS dim_project (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dim_customer (
  project_id TEXT NOT NULL, customer_id TEXT NOT NULL, customer_key TEXT NOT NULL,
  first_purchase_at INTEGER, last_purchase_at INTEGER, last_transaction_at INTEGER, frequency INTEGER, purchase_days INTEGER,
  monetary_cents INTEGER, return_rate REAL, rfm_recency_days INTEGER, churn_score REAL, churn_risk TEXT,
  expected_purchases_90d REAL, abc_category TEXT, uplift_score REAL, segment_id TEXT, segment_label TEXT, extra_features TEXT,
  PRIMARY KEY (project_id, customer_id)
);
-- The usual questions of a project's customers (top spenders, counts per segment and risk) read an index, not 100,000 wide rows.
CREATE INDEX IF NOT EXISTS dim_customer_monetary_idx ON dim_customer (project_id, monetary_cents);
CREATE INDEX IF NOT EXISTS dim_customer_segment_idx ON dim_customer (project_id, segment_id);
CREATE INDEX IF NOT EXISTS dim_customer_label_risk_idx ON dim_customer (project_id, segment_label, churn_risk);
CREATE TABLE IF NOT EXISTS dim_segment (
  segment_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT, kind TEXT, size INTEGER, last_computed_at INTEGER, created_at INTEGER
);
CREATE INDEX IF NOT EXISTS dim_segment_project_idx ON dim_segment (project_id);
CREATE TABLE IF NOT EXISTS fact_transaction (
  project_id TEXT NOT NULL, file_id TEXT NOT NULL, row_number INTEGER NOT NULL, customer_id TEXT NOT NULL, order_id TEXT,
  ordered_at INTEGER NOT NULL, order_day TEXT NOT NULL, amount_cents INTEGER NOT NULL, is_return INTEGER NOT NULL,
  currency TEXT, quantity REAL,
  PRIMARY KEY (project_id, file_id, row_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily_sales_by_file (
  project_id TEXT NOT NULL, file_id TEXT NOT NULL, day TEXT NOT NULL, orders INTEGER, purchase_lines INTEGER,
  revenue_cents INTEGER, return_lines INTEGER, returns_cents INTEGER, quantity REAL,
  PRIMARY KEY (project_id, file_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fact_segment_membership (
  project_id TEXT NOT NULL, snapshot_date TEXT NOT NULL, segment_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  PRIMARY KEY (project_id, snapshot_date, segment_id, customer_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fact_segment_size (
  project_id TEXT NOT NULL, segment_id TEXT NOT NULL, day TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (project_id, segment_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fact_usage (
  id INTEGER PRIMARY KEY, project_id TEXT, type TEXT NOT NULL, api_key_id TEXT, detail TEXT, value REAL NOT NULL, timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_projects (
  project_id TEXT PRIMARY KEY, purchases_version INTEGER NOT NULL, customers_version INTEGER NOT NULL,
  segments_version INTEGER NOT NULL, customers_synced_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_files (
  file_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, row_hwm INTEGER NOT NULL, rows INTEGER NOT NULL, completed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_files_project_idx ON sync_files (project_id);
CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** Every table the warehouse keeps rows of a project in (with a project_id column). */
export const PROJECT_TABLES = ["dim_project", "dim_customer", "dim_segment", "fact_transaction", "daily_sales_by_file", "fact_segment_membership", "fact_segment_size", "fact_usage", "sync_projects", "sync_files"];

/** Names a tenant's CTE may not take: the warehouse's own tables would resolve to it inside a view. */
export const WAREHOUSE_TABLE_NAMES = [...PROJECT_TABLES, "sync_state"];
