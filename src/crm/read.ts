import { limitError, MAX_PURCHASE_LINES } from "./limits";
import {
  compareIds,
  DimensionBuilder,
  DimensionCoder,
  mergeCustomers,
  PurchaseLogBuilder,
  type Dimension,
  type FileMark,
  type LineRow,
  type PurchaseLog,
} from "./purchase-log";

/** Lines per D1 query: pages keep each result (and the isolate's memory for it) small. */
const PAGE_LINES = 50_000;

/**
 * The lines' order: transactions_purchase_lines_idx's (migration 0017), so no query sorts and every
 * read agrees; (file_id, row_number) is the key, so the order is total.
 */
const LINE_ORDER = "ORDER BY customer_id, order_day, amount_cents, order_id, file_id, row_number";

/**
 * A line's fixed columns after customer_id and rowid: the day as a day number (cheaper to carry than
 * a date string), amount, order_id, and the file as files.rowid (a small integer, not a 36-character
 * id per line).
 */
const LINE_COLUMNS = "CAST(julianday(order_day) - 2440587.5 AS INTEGER), amount_cents, order_id, (SELECT f.rowid FROM files f WHERE f.id = file_id)";

/**
 * A change past this share of the lines, or past this many lines, is read as a whole log: merging
 * would cost as much, and the changed customers' ids travel as one JSON value (D1: 2 MB at most).
 */
const INCREMENTAL_SHARE = 0.5;
const MAX_INCREMENTAL_LINES = 50_000;

/**
 * A project's purchase lines from D1, whole customers per page, in LINE_ORDER. Each row is
 * `[customer_id, rowid, ...columns]`; `columns` and `filter` may use parameters ?2, ?3, ….
 * A page ends at the last customer it holds whole; a customer with more lines than a page is read
 * on their own, page by page (OFFSET within one customer's index range).
 */
async function* purchasePages(d1: D1Database, projectId: string, columns: string, params: unknown[], pageLines: number, filter = ""): AsyncGenerator<unknown[][]> {
  const k = 2 + params.length;
  const query = (customer: string, limit: string) =>
    d1
      .prepare(`SELECT customer_id, rowid, ${columns} FROM transactions WHERE project_id = ?1 AND is_return = 0 ${filter} ${customer} ${LINE_ORDER} ${limit}`)
      .bind(projectId, ...params, ...(customer ? [after] : []))
      .raw<unknown[]>();
  const wholeCustomer = async function* (customer: string) {
    after = customer;
    for (let offset = 0; ; offset += pageLines) {
      const rows = await query(`AND customer_id = ?${k}`, `LIMIT ${pageLines} OFFSET ${offset}`);
      if (rows.length > 0) yield rows;
      if (rows.length < pageLines) return;
    }
  };
  let after: string | null = null;
  for (;;) {
    const rows = await query(after === null ? "" : `AND customer_id > ?${k}`, `LIMIT ${pageLines}`);
    if (rows.length < pageLines) {
      if (rows.length > 0) yield rows;
      return;
    }
    const last = rows[rows.length - 1]![0] as string;
    let whole = rows.length;
    while (whole > 0 && rows[whole - 1]![0] === last) whole--;
    if (whole === 0) {
      yield* wholeCustomer(last);
    } else {
      yield rows.slice(0, whole);
      after = rows[whole - 1]![0] as string;
    }
  }
}

/**
 * The customers one PurchaseHistory holds: customer_id in [from, to) by SQLite's order, an open end
 * null. A project's one object holds them all; a split project's objects hold ranges (shards.ts).
 */
export type CustomerRange = { from: string | null; to: string | null };
export const ALL_CUSTOMERS: CustomerRange = { from: null, to: null };

/** The range as a condition on customer_id with parameters from ?k on. */
function rangeFilter(range: CustomerRange, k: number): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (range.from !== null) parts.push(`AND customer_id >= ?${k + params.push(range.from) - 1}`);
  if (range.to !== null) parts.push(`AND customer_id < ?${k + params.push(range.to) - 1}`);
  return { sql: parts.join(" "), params };
}

const inRange = (range: CustomerRange, id: string) => (range.from === null || compareIds(id, range.from) >= 0) && (range.to === null || compareIds(id, range.to) < 0);

type FileRow = { key: number; id: string; status: string; last: number | null };

/**
 * The project's purchases_version and its files with the highest row_number each holds, in one
 * snapshot (a batch is one transaction); null when the project is gone.
 */
async function snapshot(d1: D1Database, projectId: string): Promise<{ version: number; files: FileRow[] } | null> {
  const [version, files] = await d1.batch<Record<string, unknown>>([
    d1.prepare("SELECT purchases_version AS version FROM projects WHERE id = ?").bind(projectId),
    d1.prepare("SELECT f.rowid AS key, f.id, f.status, (SELECT MAX(row_number) FROM transactions t WHERE t.file_id = f.id) AS last FROM files f WHERE f.project_id = ?").bind(projectId),
  ]);
  const row = version!.results[0] as { version: number } | undefined;
  return row ? { version: row.version, files: files!.results as FileRow[] } : null;
}

/**
 * The project's purchase log, tagged with the purchases_version read before its first page; null when
 * the project no longer exists. Each file is marked read up to the rows it had then: rows that came
 * during the read are read again by the next refresh, which rebuilds their customers whole.
 */
export async function readPurchaseLog(
  d1: D1Database,
  projectId: string,
  pageLines = PAGE_LINES,
  maxLines = MAX_PURCHASE_LINES,
  range = ALL_CUSTOMERS,
): Promise<PurchaseLog | null> {
  const now = await snapshot(d1, projectId);
  if (now === null) return null;
  const version = now.version;
  const files = new Map<number, FileMark>();
  for (const f of now.files) if (f.status !== "failed") files.set(f.key, { hwm: f.last ?? 0, completed: f.status === "completed" });
  const lines = await purchaseLineCount(d1, projectId, range);
  if (lines > maxLines) throw limitError("crm-limit:lines", `${lines} purchase lines; one object holds at most ${maxLines}`);
  const builder = new PurchaseLogBuilder(lines, maxLines);
  const filter = rangeFilter(range, 2);
  for await (const rows of purchasePages(d1, projectId, LINE_COLUMNS, filter.params, pageLines, filter.sql)) builder.append(rows as LineRow[]);
  return builder.build(version, files);
}

/**
 * The log brought up to the project's current purchases by reading only what changed, as the
 * AnalyticsWarehouse does (src/analytics/warehouse-sync.ts): a file's rows are written in row order
 * and never changed, only removed with the file (src/services/transactions.ts), so
 * - a file gone, failed, or left without rows takes its lines with it;
 * - rows past a file's high-water mark are new;
 * and every customer touched either way is read again whole, from the covering index, with the
 * dimensions the log holds; the rest of the log is kept as it is. Null: the project is gone;
 * "whole": read the whole log instead (most of it changed, or the version moved without a file
 * change this can see, e.g. a row edited in place).
 */
export async function refreshPurchaseLog(
  d1: D1Database,
  projectId: string,
  log: PurchaseLog,
  pageLines = PAGE_LINES,
  maxLines = MAX_PURCHASE_LINES,
  range = ALL_CUSTOMERS,
): Promise<PurchaseLog | "whole" | null> {
  const now = await snapshot(d1, projectId);
  if (now === null) return null;
  const version = now.version;
  const d1Files = new Map(now.files.map((f) => [f.key, f]));
  const files = new Map<number, FileMark>();
  const removed = new Set<number>();
  for (const [key, mark] of log.files) {
    const file = d1Files.get(key);
    // Rows leave only with their whole file (removeFileTransactions), so a file without rows lost them.
    if (!file || file.status === "failed" || file.last === null) removed.add(key);
    else files.set(key, { ...mark });
  }
  // New rows: per file still being written (or not yet read whole), past what was read of it.
  const reading = [...d1Files.values()].filter((f) => f.status !== "failed" && !files.get(f.key)?.completed && (f.last ?? 0) > (files.get(f.key)?.hwm ?? 0));
  const fresh = reading.map((f) => ({ file: f, from: files.get(f.key)?.hwm ?? 0 }));
  let changedLines = fresh.reduce((n, { file, from }) => n + (file.last! - from), 0);
  for (const f of d1Files.values()) {
    // A file that was complete when seen with nothing new keeps no question open.
    const mark = files.get(f.key);
    if (mark && f.status === "completed" && (f.last ?? 0) <= mark.hwm) mark.completed = true;
  }
  const dropped = new Uint8Array(log.customerIds.length);
  if (removed.size > 0) {
    for (let c = 0; c < log.customerIds.length; c++) {
      for (let i = log.customerStart[c]!; i < log.customerStart[c + 1]!; i++) {
        if (removed.has(log.file[i]!)) {
          dropped[c] = 1;
          changedLines += log.customerStart[c + 1]! - log.customerStart[c]!;
          break;
        }
      }
    }
  }
  if (removed.size === 0 && fresh.length === 0) return "whole";
  if (changedLines > Math.max(10_000, Math.min(MAX_INCREMENTAL_LINES, log.day.length * INCREMENTAL_SHARE))) return "whole";

  const customers = new Set<string>();
  for (let c = 0; c < dropped.length; c++) if (dropped[c]) customers.add(log.customerIds[c]!);
  if (fresh.length > 0) {
    const pages = await d1.batch<{ customers: string }>(
      fresh.map(({ file, from }) =>
        d1
          .prepare("SELECT json_group_array(DISTINCT customer_id) AS customers FROM transactions WHERE file_id = ?1 AND row_number > ?2 AND row_number <= ?3 AND is_return = 0")
          .bind(file.id, from, file.last),
      ),
    );
    for (const page of pages) for (const id of JSON.parse(page.results[0]!.customers) as string[]) if (inRange(range, id)) customers.add(id);
    for (const { file } of fresh) files.set(file.key, { hwm: file.last!, completed: file.status === "completed" });
  }
  // The log's customers read again lose their old lines (binary search: the ids are in order).
  for (const id of customers) {
    let lo = 0;
    let hi = log.customerIds.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const order = compareIds(log.customerIds[mid]!, id);
      if (order === 0) {
        dropped[mid] = 1;
        break;
      }
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  const keys = [...log.dimensions.keys()];
  const coders = keys.map((key) => [key, new DimensionCoder([...log.dimensions.get(key)!.values])] as [string, DimensionCoder]);
  const builder = new PurchaseLogBuilder(1024, maxLines, log.nextOrder, coders);
  const columns = [LINE_COLUMNS, ...keys.map((_, d) => `json_extract(extra, ?${2 + d})`)].join(", ");
  const ids = JSON.stringify([...customers].sort(compareIds));
  for await (const rows of purchasePages(d1, projectId, columns, [...keys.map(jsonPath), ids], pageLines, `AND customer_id IN (SELECT value FROM json_each(?${2 + keys.length}))`)) {
    builder.append(rows as LineRow[]);
  }
  const merged = mergeCustomers(log, builder.build(version, files), dropped, version);
  if (merged.day.length > maxLines) throw limitError("crm-limit:lines", `more than ${maxLines} purchase lines; one object holds at most ${maxLines}`);
  return merged;
}

/** The JSON path of an extra_features key; quoting the key keeps dots and spaces literal. */
const jsonPath = (key: string) => `$."${key}"`;

/**
 * The values of one extra_features key for every line of the log, or null when the lines read no
 * longer match the log's (the purchases changed meanwhile; the caller reads the log again). A column
 * read: one pass over the log's customers in the covering index's order (`extra` is in the index, so
 * no line is looked up in the table), each page of whole customers coming back as two JSON arrays
 * (values and rowids) rather than a row per line. The rowids are checked against the log's, so the
 * values line up or nothing is taken. A page whose arrays D1 refuses (over 2 MB: long values) is read
 * row by row.
 */
export async function readDimension(d1: D1Database, projectId: string, log: PurchaseLog, key: string, pageLines = PAGE_LINES): Promise<Dimension | null> {
  const builder = new DimensionBuilder(log);
  const customers = log.customerIds.length;
  for (let a = 0; a < customers; ) {
    let b = a + 1;
    while (b < customers && log.customerStart[b + 1]! - log.customerStart[a]! <= pageLines) b++;
    const from = log.customerIds[a]!;
    const to = log.customerIds[b - 1]!;
    let page: Array<[string, number, unknown]>;
    try {
      const row = await d1
        .prepare(
          `SELECT json_group_array(v) AS vals, json_group_array(r) AS rowids FROM (SELECT rowid AS r, json_extract(extra, ?2) AS v FROM transactions
             WHERE project_id = ?1 AND is_return = 0 AND customer_id >= ?3 AND customer_id <= ?4 ${LINE_ORDER})`,
        )
        .bind(projectId, jsonPath(key), from, to)
        .first<{ vals: string; rowids: string }>();
      const values = JSON.parse(row!.vals) as unknown[];
      const rowids = JSON.parse(row!.rowids) as number[];
      page = rowids.map((rowid, i) => ["", rowid, values[i]]);
    } catch (error) {
      if (!/too big|TOOBIG/i.test(String(error))) throw error;
      page = [];
      const range = rangeFilter({ from, to: null }, 3);
      for await (const rows of purchasePages(d1, projectId, "json_extract(extra, ?2)", [jsonPath(key), ...range.params, to], pageLines, `${range.sql} AND customer_id <= ?4`)) {
        page.push(...(rows as Array<[string, number, unknown]>));
      }
    }
    // The page must be exactly the log's lines of these customers.
    if (page.length !== log.customerStart[b]! - log.customerStart[a]! || !builder.append(page)) return null;
    a = b;
  }
  return builder.build();
}

/** Purchase lines of the project's customers in `range` (from the covering index). */
export async function purchaseLineCount(d1: D1Database, projectId: string, range = ALL_CUSTOMERS): Promise<number> {
  const filter = rangeFilter(range, 2);
  const row = await d1
    .prepare(`SELECT COUNT(*) AS n FROM transactions WHERE project_id = ?1 AND is_return = 0 ${filter.sql}`)
    .bind(projectId, ...filter.params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Where to split a project's customers into `parts` ranges of about equal lines: the customer_id at
 * each k/parts of the lines in index order (a bound starts a customer, so none straddles two parts).
 */
export async function customerBounds(d1: D1Database, projectId: string, lines: number, parts: number): Promise<string[]> {
  if (parts <= 1) return [];
  const statements = Array.from({ length: parts - 1 }, (_, i) =>
    d1.prepare("SELECT customer_id FROM transactions WHERE project_id = ? AND is_return = 0 ORDER BY customer_id LIMIT 1 OFFSET ?").bind(projectId, Math.floor(((i + 1) * lines) / parts)),
  );
  const bounds = (await d1.batch<{ customer_id: string }>(statements)).flatMap((r) => r.results.map((row) => row.customer_id));
  return [...new Set(bounds)].sort(compareIds);
}

/** The project's purchases_version, or null when there is no such project (any more). */
export async function purchasesVersion(d1: D1Database, projectId: string): Promise<number | null> {
  const row = await d1.prepare("SELECT purchases_version AS version FROM projects WHERE id = ?").bind(projectId).first<{ version: number }>();
  return row?.version ?? null;
}
