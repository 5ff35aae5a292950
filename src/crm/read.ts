import { limitError, MAX_PURCHASE_LINES } from "./limits";
import { DimensionBuilder, PurchaseLogBuilder, type Dimension, type LineRow, type PurchaseLog } from "./purchase-log";

/** Lines per D1 query: pages keep each result (and the isolate's memory for it) small. */
const PAGE_LINES = 50_000;

/** The lines' order: transactions_purchase_lines_idx's, so no query sorts and every read agrees. */
const LINE_ORDER = "ORDER BY customer_id, order_day, amount_cents, order_id, rowid";

/**
 * A project's purchase lines from D1, whole customers per page, in LINE_ORDER. Each row is
 * `[customer_id, rowid, ...columns]`; `columns` may use parameters ?2, ?3, ….
 * A page ends at the last customer it holds whole; a customer with more lines than a page is read
 * on their own, page by page (OFFSET within one customer's index range).
 */
async function* purchasePages(d1: D1Database, projectId: string, columns: string, params: unknown[], pageLines: number): AsyncGenerator<unknown[][]> {
  const k = 2 + params.length;
  const query = (customer: string, limit: string) =>
    d1
      .prepare(`SELECT customer_id, rowid, ${columns} FROM transactions WHERE project_id = ?1 AND is_return = 0 ${customer} ${LINE_ORDER} ${limit}`)
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
 * The project's purchase log, tagged with the purchases_version read before its first page; null when
 * the project no longer exists.
 */
export async function readPurchaseLog(d1: D1Database, projectId: string, pageLines = PAGE_LINES, maxLines = MAX_PURCHASE_LINES): Promise<PurchaseLog | null> {
  const version = await purchasesVersion(d1, projectId);
  if (version === null) return null;
  const count = await d1.prepare("SELECT COUNT(*) AS n FROM transactions WHERE project_id = ? AND is_return = 0").bind(projectId).first<{ n: number }>();
  const lines = count?.n ?? 0;
  if (lines > maxLines) throw limitError("crm-limit:lines", `the project has ${lines} purchase lines; CRM analytics hold at most ${maxLines}`);
  const builder = new PurchaseLogBuilder(lines, maxLines);
  // The day as a day number (days since 1970-01-01): a number is cheaper to carry than a date string.
  for await (const rows of purchasePages(d1, projectId, "CAST(julianday(order_day) - 2440587.5 AS INTEGER), amount_cents, order_id", [], pageLines)) {
    builder.append(rows as LineRow[]);
  }
  return builder.build(version);
}

/**
 * The values of one extra_features key for every line of the log, or null when the lines read no
 * longer match the log's (the purchases changed meanwhile; the caller reads the log again).
 */
export async function readDimension(d1: D1Database, projectId: string, log: PurchaseLog, key: string, pageLines = PAGE_LINES): Promise<Dimension | null> {
  const builder = new DimensionBuilder(log);
  // ?2: the JSON path is a bound parameter; quoting the key keeps dots and spaces literal.
  for await (const rows of purchasePages(d1, projectId, "json_extract(extra, ?2)", [`$."${key}"`], pageLines)) {
    if (!builder.append(rows as Array<[string, number, unknown]>)) return null;
  }
  return builder.build();
}

/** The project's purchases_version, or null when there is no such project (any more). */
export async function purchasesVersion(d1: D1Database, projectId: string): Promise<number | null> {
  const row = await d1.prepare("SELECT purchases_version AS version FROM projects WHERE id = ?").bind(projectId).first<{ version: number }>();
  return row?.version ?? null;
}
