import { DimensionBuilder, PurchaseLogBuilder, type Dimension, type LineRow, type PurchaseLog } from "./purchase-log";

/** Lines per D1 query: pages keep each result (and the isolate's memory for it) small. */
const PAGE_LINES = 50_000;

/**
 * A project's purchase lines from D1 in (customer, time, rowid) order, page by page: the keyset walks
 * transactions_customer_idx, so every page is an index range, not a re-sort of the project.
 * Each row is `[rowid, ...columns, customer_id, ordered_at]`; `columns` may use parameters ?2, ?3, ….
 */
async function* purchasePages(db: D1Database, projectId: string, columns: string, params: unknown[], pageLines: number): AsyncGenerator<unknown[][]> {
  let after: unknown[] | null = null;
  const k = 2 + params.length;
  for (;;) {
    const results: unknown[][] = await db
      .prepare(
        `SELECT rowid, ${columns}, customer_id, ordered_at FROM transactions
         WHERE project_id = ?1 AND is_return = 0 ${after ? `AND (customer_id, ordered_at, rowid) > (?${k}, ?${k + 1}, ?${k + 2})` : ""}
         ORDER BY customer_id, ordered_at, rowid LIMIT ${pageLines}`,
      )
      .bind(projectId, ...params, ...(after ?? []))
      .raw<unknown[]>();
    if (results.length > 0) yield results;
    if (results.length < pageLines) return;
    const last: unknown[] = results[results.length - 1]!;
    after = [last[last.length - 2], last[last.length - 1], last[0]];
  }
}

/** The project's purchase log, tagged with the purchases_version read before its first page. */
export async function readPurchaseLog(db: D1Database, projectId: string, pageLines = PAGE_LINES): Promise<PurchaseLog> {
  const version = await purchasesVersion(db, projectId);
  const builder = new PurchaseLogBuilder();
  for await (const rows of purchasePages(db, projectId, "customer_id, order_day, amount_cents, order_id", [], pageLines)) {
    builder.append(rows as unknown as LineRow[]);
  }
  return builder.build(version);
}

/**
 * The values of one extra_features key for every line of the log, or null when the lines read no
 * longer match the log's (the purchases changed meanwhile; the caller reads the log again).
 */
export async function readDimension(db: D1Database, projectId: string, log: PurchaseLog, key: string, pageLines = PAGE_LINES): Promise<Dimension | null> {
  const builder = new DimensionBuilder(log);
  // ?2: the JSON path is a bound parameter; quoting the key keeps dots and spaces literal.
  for await (const rows of purchasePages(db, projectId, "json_extract(extra, ?2)", [`$."${key}"`], pageLines)) {
    if (!builder.append(rows as Array<[number, unknown]>)) return null;
  }
  return builder.build();
}

export async function purchasesVersion(db: D1Database, projectId: string): Promise<number> {
  const row = await db.prepare("SELECT purchases_version AS version FROM projects WHERE id = ?").bind(projectId).first<{ version: number }>();
  return row?.version ?? 0;
}
