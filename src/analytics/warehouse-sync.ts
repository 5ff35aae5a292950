import { PROJECT_TABLES, WAREHOUSE_DDL } from "./warehouse-tables";

/**
 * Brings an organization's AnalyticsWarehouse up to date with D1, reading only what changed. D1
 * tells what changed through counters its triggers keep (migrations 0005 and 0009) and file ids:
 * - projects gone from D1 (deleted, or the organization deleted) are deleted here;
 * - a project whose purchases_version moved: files gone or failed lose their rows here; rows of
 *   files still being written, or not fully copied, are appended past each file's high-water mark
 *   (a file's rows are written in row order and never changed, only removed with the file); a file
 *   that completed brings its daily sales;
 * - customers_version moved: customers written since the last copy (updated_at by ingest,
 *   profiled_at by a model run) are upserted; if rows were deleted (a file removed) all are copied;
 * - segments_version moved (a model run or a segment edit): the project's segments and daily sizes
 *   are replaced, and its membership days from the latest one held on (runs write one day at a time);
 * - usage events are appended past the highest id held.
 * Every page is written in one storage transaction together with its high-water mark, so an
 * eviction mid-way resumes where it stopped; a version is stored only once its copy is done.
 */
type Sql = SqlStorage;
type ProjectRow = { id: string; name: string; created_at: number; purchases_version: number; customers_version: number; segments_version: number };
type Synced = { project_id: string; purchases_version: number; customers_version: number; segments_version: number; customers_synced_at: number };

/**
 * Rows per page read from D1, each page one JSON string: D1 refuses a value over 2 MB, so pages are
 * sized by the width of their rows (customers carry extra_features).
 */
const PAGE = { transactions: 5_000, customers: 1_000, memberships: 10_000, usage: 5_000 };
/** Customers written this long before the last copy began are read again: writers stamp rows with their own clock before committing. */
const CLOCK_MARGIN_MS = 10 * 60_000;

export type SyncReport = { projects: number; transactions: number; customers: number; segments: number; usage: number; removedProjects: number; removedFiles: number };

export function createWarehouseTables(sql: Sql) {
  sql.exec(WAREHOUSE_DDL);
}

export async function catchUp(storage: DurableObjectStorage, d1: D1Database, organizationId: string): Promise<SyncReport> {
  const sql = storage.sql;
  const report: SyncReport = { projects: 0, transactions: 0, customers: 0, segments: 0, usage: 0, removedProjects: 0, removedFiles: 0 };
  // One round trip when nothing but usage changed: the versions, and the first page of new usage events.
  const [projectsResult, organization, usagePage] = await d1.batch<Record<string, unknown>>([
    d1.prepare("SELECT id, name, created_at, purchases_version, customers_version, segments_version FROM projects WHERE organization_id = ?").bind(organizationId),
    d1.prepare("SELECT 1 AS found FROM organizations WHERE id = ?").bind(organizationId),
    usagePageStatement(d1, organizationId, usageHighWaterMark(sql)),
  ]);
  const projects = (projectsResult!.results as ProjectRow[]) ?? [];
  if (!organization!.results.length) {
    // The organization is gone: so is everything held for it.
    await storage.deleteAll();
    createWarehouseTables(sql);
    return report;
  }
  const synced = new Map(sql.exec<Synced>("SELECT * FROM sync_projects").toArray().map((s) => [s.project_id, s]));
  const live = new Set(projects.map((p) => p.id));
  storage.transactionSync(() => {
    for (const projectId of synced.keys()) {
      if (live.has(projectId)) continue;
      for (const table of PROJECT_TABLES) if (table !== "fact_usage") sql.exec(`DELETE FROM ${table} WHERE project_id = ?`, projectId);
      report.removedProjects++;
    }
    sql.exec("DELETE FROM dim_project");
    for (const p of projects) sql.exec("INSERT INTO dim_project (project_id, name, created_at) VALUES (?, ?, ?)", p.id, p.name, p.created_at);
  });
  report.projects = projects.length;

  for (const project of projects) {
    const held = synced.get(project.id) ?? { project_id: project.id, purchases_version: -1, customers_version: -1, segments_version: -1, customers_synced_at: 0 };
    if (held.purchases_version !== project.purchases_version) {
      const counts = await syncTransactions(storage, d1, project.id);
      report.transactions += counts.rows;
      report.removedFiles += counts.removedFiles;
    }
    let customersSyncedAt = held.customers_synced_at;
    if (held.customers_version !== project.customers_version) {
      const started = Date.now();
      report.customers += await syncCustomers(storage, d1, project.id, held.customers_version < 0 ? 0 : held.customers_synced_at);
      customersSyncedAt = started;
    }
    if (held.segments_version !== project.segments_version) report.segments += await syncSegments(storage, d1, project.id);
    sql.exec(
      `INSERT INTO sync_projects (project_id, purchases_version, customers_version, segments_version, customers_synced_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (project_id) DO UPDATE SET purchases_version = excluded.purchases_version, customers_version = excluded.customers_version,
         segments_version = excluded.segments_version, customers_synced_at = excluded.customers_synced_at`,
      project.id, project.purchases_version, project.customers_version, project.segments_version, customersSyncedAt,
    );
  }
  report.usage = await syncUsage(storage, d1, organizationId, usagePage!.results[0] as UsagePage);
  return report;
}

type FileRow = { id: string; status: string; rows_accepted: number | null };
type HeldFile = { file_id: string; row_hwm: number; rows: number; completed: number };

async function syncTransactions(storage: DurableObjectStorage, d1: D1Database, projectId: string) {
  const sql = storage.sql;
  const files = (await d1.prepare("SELECT id, status, rows_accepted FROM files WHERE project_id = ?").bind(projectId).all<FileRow>()).results;
  const current = new Map(files.filter((f) => f.status !== "failed").map((f) => [f.id, f]));
  const held = new Map(sql.exec<HeldFile>("SELECT file_id, row_hwm, rows, completed FROM sync_files WHERE project_id = ?", projectId).toArray().map((f) => [f.file_id, f]));
  let removedFiles = 0;
  storage.transactionSync(() => {
    for (const fileId of held.keys()) {
      if (current.has(fileId)) continue;
      for (const table of ["fact_transaction", "daily_sales_by_file", "sync_files"]) sql.exec(`DELETE FROM ${table} WHERE project_id = ? AND file_id = ?`, projectId, fileId);
      held.delete(fileId);
      removedFiles++;
    }
  });
  let rows = 0;
  for (const file of current.values()) {
    const mine = held.get(file.id) ?? { file_id: file.id, row_hwm: 0, rows: 0, completed: 0 };
    if (mine.completed) continue;
    let hwm = mine.row_hwm;
    let count = mine.rows;
    for (;;) {
      const page = await d1
        .prepare(
          `SELECT COUNT(*) AS n, MAX(row_number) AS last, json_group_array(json_array(row_number, customer_id, order_id, ordered_at, order_day, amount_cents, is_return, currency, quantity)) AS rows
           FROM (SELECT * FROM transactions WHERE file_id = ?1 AND row_number > ?2 ORDER BY row_number LIMIT ?3)`,
        )
        .bind(file.id, hwm, PAGE.transactions)
        .first<{ n: number; last: number | null; rows: string }>();
      const n = page?.n ?? 0;
      if (n > 0) {
        storage.transactionSync(() => {
          sql.exec(
            `INSERT OR IGNORE INTO fact_transaction (file_id, row_number, project_id, customer_id, order_id, ordered_at, order_day, amount_cents, is_return, currency, quantity)
             SELECT ?1, value ->> 0, ?2, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8 FROM json_each(?3)`,
            file.id, projectId, page!.rows,
          );
          hwm = page!.last!;
          count += n;
          saveFile(sql, file.id, projectId, hwm, count, 0);
        });
        rows += n;
      }
      if (n < PAGE.transactions) break;
    }
    // A completed file is final: its daily sales are read once and the file is not asked about again.
    if (file.status === "completed") {
      const sales = await d1
        .prepare(
          `SELECT json_group_array(json_array(day, orders, purchase_lines, revenue_cents, return_lines, returns_cents, quantity)) AS rows FROM daily_sales WHERE file_id = ?`,
        )
        .bind(file.id)
        .first<{ rows: string }>();
      storage.transactionSync(() => {
        sql.exec("DELETE FROM daily_sales_by_file WHERE project_id = ? AND file_id = ?", projectId, file.id);
        sql.exec(
          `INSERT INTO daily_sales_by_file (file_id, project_id, day, orders, purchase_lines, revenue_cents, return_lines, returns_cents, quantity)
           SELECT ?1, ?2, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?3)`,
          file.id, projectId, sales?.rows ?? "[]",
        );
        saveFile(sql, file.id, projectId, hwm, count, 1);
      });
    }
  }
  return { rows, removedFiles };
}

function saveFile(sql: Sql, fileId: string, projectId: string, hwm: number, rows: number, completed: number) {
  sql.exec(
    `INSERT INTO sync_files (file_id, project_id, row_hwm, rows, completed) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (file_id) DO UPDATE SET row_hwm = excluded.row_hwm, rows = excluded.rows, completed = excluded.completed`,
    fileId, projectId, hwm, rows, completed,
  );
}

const CUSTOMER_COLUMNS = `customer_id, id, first_purchase_at, last_purchase_at, last_transaction_at, frequency, purchase_days, monetary_cents, return_rate,
  rfm_recency_days, churn_score, churn_risk, expected_purchases_90d, abc_category, uplift_score, segment_id, segment_label, extra_features`;

/**
 * Upserts the customers written since `since` (all when 0); copies all again when some were deleted in
 * D1. Whoever writes customers stamps updated_at (ingest) or profiled_at (a model run).
 */
async function syncCustomers(storage: DurableObjectStorage, d1: D1Database, projectId: string, since: number): Promise<number> {
  const sql = storage.sql;
  let copied = await copyCustomers(storage, d1, projectId, since === 0 ? 0 : since - CLOCK_MARGIN_MS);
  const d1Count = (await d1.prepare("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?").bind(projectId).first<{ n: number }>())?.n ?? 0;
  const heldCount = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM dim_customer WHERE project_id = ?", projectId).one().n;
  // Rows deleted in D1, or a change that stamped neither time (nothing came back): copy them all.
  if (heldCount !== d1Count || (copied === 0 && since !== 0)) {
    sql.exec("DELETE FROM dim_customer WHERE project_id = ?", projectId);
    copied = await copyCustomers(storage, d1, projectId, 0);
  }
  return copied;
}

async function copyCustomers(storage: DurableObjectStorage, d1: D1Database, projectId: string, since: number): Promise<number> {
  let after = "";
  let copied = 0;
  for (;;) {
    const page = await d1
      .prepare(
        `SELECT COUNT(*) AS n, MAX(customer_id) AS last, json_group_array(json_array(${CUSTOMER_COLUMNS})) AS rows
         FROM (SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 AND customer_id > ?2 AND (?3 = 0 OR updated_at >= ?3 OR profiled_at >= ?3)
               ORDER BY customer_id LIMIT ?4)`,
      )
      .bind(projectId, after, since, PAGE.customers)
      .first<{ n: number; last: string | null; rows: string }>();
    const n = page?.n ?? 0;
    if (n > 0) {
      storage.sql.exec(
        `INSERT OR REPLACE INTO dim_customer (project_id, ${CUSTOMER_COLUMNS.replace(" id,", " customer_key,")})
         SELECT ?1, ${Array.from({ length: 18 }, (_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?2)`,
        projectId, page!.rows,
      );
      copied += n;
      after = page!.last!;
    }
    if (n < PAGE.customers) return copied;
  }
}

/** Replaces the project's segments and daily sizes, and its membership days from the latest one held on. */
async function syncSegments(storage: DurableObjectStorage, d1: D1Database, projectId: string): Promise<number> {
  const sql = storage.sql;
  const [segments, sizes, range] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(`SELECT json_group_array(json_array(id, name, kind, size, last_computed_at, created_at)) AS rows FROM segments WHERE project_id = ?`)
      .bind(projectId),
    d1.prepare(`SELECT json_group_array(json_array(segment_id, day, size)) AS rows FROM segment_daily_sizes WHERE project_id = ?`).bind(projectId),
    d1.prepare(`SELECT MIN(snapshot_date) AS first FROM segment_membership_snapshots WHERE project_id = ?`).bind(projectId),
  ]);
  const latestHeld = sql.exec<{ day: string | null }>("SELECT MAX(snapshot_date) AS day FROM fact_segment_membership WHERE project_id = ?", projectId).one().day ?? "";
  const firstInD1 = (range!.results[0] as { first: string | null }).first ?? "9999";
  storage.transactionSync(() => {
    sql.exec("DELETE FROM dim_segment WHERE project_id = ?", projectId);
    sql.exec(
      `INSERT INTO dim_segment (project_id, segment_id, name, kind, size, last_computed_at, created_at)
       SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?2)`,
      projectId, (segments!.results[0] as { rows: string }).rows,
    );
    sql.exec("DELETE FROM fact_segment_size WHERE project_id = ?", projectId);
    sql.exec(`INSERT INTO fact_segment_size (project_id, segment_id, day, size) SELECT ?1, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?2)`, projectId, (sizes!.results[0] as { rows: string }).rows);
    sql.exec("DELETE FROM fact_segment_membership WHERE project_id = ? AND (snapshot_date < ? OR snapshot_date >= ?)", projectId, firstInD1, latestHeld);
  });
  let copied = 0;
  let after: [string, string, number] = [latestHeld, "", -1];
  for (;;) {
    const page = await d1
      .prepare(
        `WITH p AS (SELECT snapshot_date, segment_id, customer_id, rowid AS rid FROM segment_membership_snapshots
           WHERE project_id = ?1 AND (snapshot_date, customer_id, rowid) > (?2, ?3, ?4) ORDER BY snapshot_date, customer_id, rowid LIMIT ?5)
         SELECT COUNT(*) AS n, json_group_array(json_array(snapshot_date, segment_id, customer_id)) AS rows,
           (SELECT json_array(snapshot_date, customer_id, rid) FROM p ORDER BY snapshot_date DESC, customer_id DESC, rid DESC LIMIT 1) AS last
         FROM p`,
      )
      .bind(projectId, after[0], after[1], after[2], PAGE.memberships)
      .first<{ n: number; rows: string; last: string | null }>();
    const n = page?.n ?? 0;
    if (n > 0) {
      sql.exec(
        `INSERT OR REPLACE INTO fact_segment_membership (project_id, snapshot_date, segment_id, customer_id) SELECT ?1, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?2)`,
        projectId, page!.rows,
      );
      copied += n;
      after = JSON.parse(page!.last!);
    }
    if (n < PAGE.memberships) return copied;
  }
}

type UsagePage = { n: number; rows: string };

const usageHighWaterMark = (sql: Sql) => sql.exec<{ id: number | null }>("SELECT MAX(id) AS id FROM fact_usage").one().id ?? 0;

function usagePageStatement(d1: D1Database, organizationId: string, after: number) {
  return d1
    .prepare(
      `SELECT COUNT(*) AS n, json_group_array(json_array(id, project_id, type, api_key_id, detail, value, timestamp)) AS rows
       FROM (SELECT * FROM usage_events WHERE organization_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3)`,
    )
    .bind(organizationId, after, PAGE.usage);
}

/** Appends usage events past the highest id held, from `first` (already read) on. */
async function syncUsage(storage: DurableObjectStorage, d1: D1Database, organizationId: string, first: UsagePage): Promise<number> {
  const sql = storage.sql;
  let copied = 0;
  for (let page = first; ; ) {
    if (page.n > 0) {
      sql.exec(
        `INSERT OR IGNORE INTO fact_usage (id, project_id, type, api_key_id, detail, value, timestamp)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?1)`,
        page.rows,
      );
      copied += page.n;
    }
    if (page.n < PAGE.usage) return copied;
    page = (await usagePageStatement(d1, organizationId, usageHighWaterMark(sql)).first<UsagePage>())!;
  }
}
