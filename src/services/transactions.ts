import type { TransactionRow } from "../ingest/rows";

/** Rows per INSERT at most. They travel as one JSON parameter, so D1's 100-parameter limit does not bind. */
export const TRANSACTION_CHUNK = 500;
/**
 * Bytes of packed JSON per INSERT at most: D1 refuses a string parameter over 2 MB (SQLITE_TOOBIG),
 * and a row may be up to the reader's record limit (64 KB), so chunks are cut by size as well.
 */
const CHUNK_BYTES = 1_000_000;

/** An order already stored for the customer from another file: the row is not stored again. */
export type DuplicateOrder = { row: number; order_id: string };

/** Whether a row's order (customer and order id) is already stored by another file of the project. */
const ORDER_STORED_ELSEWHERE = `EXISTS (SELECT 1 FROM transactions x
  WHERE x.project_id = ?2 AND x.customer_id = j.value ->> 1 AND x.order_id = j.value ->> 2 AND x.file_id <> ?1)`;

/**
 * Stores accepted rows and returns the rows skipped as duplicate orders. `INSERT OR IGNORE` on the
 * (file, row) key makes a redelivered batch a no-op; a row whose order id the customer already has
 * from another file is skipped (lines of one order within a file are all kept). Each chunk's check
 * and insert run in one D1 batch, a transaction, so two files cannot both store the same order.
 */
export async function storeTransactions(d1: D1Database, fileId: string, projectId: string, rows: readonly TransactionRow[]): Promise<DuplicateOrder[]> {
  const statements: D1PreparedStatement[] = [];
  for (const packed of packedChunks(rows)) {
    statements.push(
      d1
        .prepare(`SELECT j.value ->> 0 AS row, j.value ->> 2 AS order_id FROM json_each(?3) j WHERE j.value ->> 2 IS NOT NULL AND ${ORDER_STORED_ELSEWHERE}`)
        .bind(fileId, projectId, packed),
      d1
        .prepare(
          `INSERT OR IGNORE INTO transactions
             (file_id, row_number, project_id, customer_id, order_id, ordered_at, order_day, amount_cents, currency, quantity, is_return, extra)
           SELECT ?1, j.value ->> 0, ?2, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9
           FROM json_each(?3) j WHERE j.value ->> 2 IS NULL OR NOT ${ORDER_STORED_ELSEWHERE}`,
        )
        .bind(fileId, projectId, packed),
    );
  }
  if (statements.length === 0) return [];
  const results = await d1.batch<DuplicateOrder>(statements);
  return results.filter((_, i) => i % 2 === 0).flatMap((r) => r.results);
}

function* packedChunks(rows: readonly TransactionRow[]): Generator<string> {
  let chunk: string[] = [];
  let bytes = 0;
  for (const r of rows) {
    const packed = JSON.stringify([r.rowNumber, r.customerId, r.orderId, r.orderedAt, r.orderDay, r.amountCents, r.currency, r.quantity, r.isReturn ? 1 : 0, r.extra ? JSON.stringify(r.extra) : null]);
    if (chunk.length > 0 && (chunk.length >= TRANSACTION_CHUNK || bytes + packed.length * 3 > CHUNK_BYTES)) {
      yield `[${chunk.join(",")}]`;
      chunk = [];
      bytes = 0;
    }
    chunk.push(packed);
    // Three bytes per UTF-16 unit is the most UTF-8 can take, so the real size never exceeds the count.
    bytes += packed.length * 3 + 1;
  }
  if (chunk.length > 0) yield `[${chunk.join(",")}]`;
}

/**
 * Recomputes, from all their transactions, the aggregates of the customers a file touches. Deriving them
 * from the source rows (rather than adding a batch's totals) makes a rerun change nothing, and two
 * batches for the same customers end right whichever recomputes last. `excludeFile` leaves that file's
 * rows out (used when removing a file).
 */
function recomputeStatement(d1: D1Database, projectId: string, fileId: string, excludeFile: boolean) {
  return d1
    .prepare(
      `WITH touched AS (SELECT DISTINCT customer_id FROM transactions WHERE file_id = ?1),
       agg AS (
         SELECT t.customer_id AS customer_id,
           MIN(CASE WHEN t.is_return = 0 THEN t.ordered_at END) AS first_purchase_at,
           MAX(CASE WHEN t.is_return = 0 THEN t.ordered_at END) AS last_purchase_at,
           MAX(t.ordered_at) AS last_transaction_at,
           COUNT(DISTINCT CASE WHEN t.is_return = 0 THEN COALESCE(t.order_id, t.file_id || ':' || t.row_number) END) AS frequency,
           COUNT(DISTINCT CASE WHEN t.is_return = 0 THEN t.order_day END) AS purchase_days,
           COALESCE(SUM(CASE WHEN t.is_return = 0 THEN t.amount_cents END), 0) AS purchases_cents,
           COALESCE(SUM(CASE WHEN t.is_return = 1 THEN t.amount_cents END), 0) AS returns_cents,
           COUNT(DISTINCT CASE WHEN t.is_return = 1 THEN COALESCE(t.order_id, t.file_id || ':' || t.row_number) END) AS return_count
         FROM transactions t
         WHERE t.project_id = ?2 AND t.customer_id IN (SELECT customer_id FROM touched) AND t.file_id <> ?3
         GROUP BY t.customer_id
       )
       INSERT INTO customers (project_id, customer_id, first_purchase_at, last_purchase_at, last_transaction_at, frequency,
         purchase_days, purchases_cents, returns_cents, return_count, monetary_cents, return_rate, extra_features, updated_at)
       SELECT ?2, a.customer_id, a.first_purchase_at, a.last_purchase_at, a.last_transaction_at, a.frequency,
         a.purchase_days, a.purchases_cents, a.returns_cents, a.return_count, a.purchases_cents - a.returns_cents,
         CASE WHEN a.frequency = 0 THEN (CASE WHEN a.return_count > 0 THEN 1.0 ELSE 0.0 END)
              ELSE MIN(1.0, a.return_count * 1.0 / a.frequency) END,
         (SELECT x.extra FROM transactions x
           WHERE x.project_id = ?2 AND x.customer_id = a.customer_id AND x.file_id <> ?3 AND x.extra IS NOT NULL
           ORDER BY x.ordered_at DESC, x.file_id DESC, x.row_number DESC LIMIT 1),
         ?4
       FROM agg a WHERE true
       ON CONFLICT (project_id, customer_id) DO UPDATE SET
         first_purchase_at = excluded.first_purchase_at, last_purchase_at = excluded.last_purchase_at,
         last_transaction_at = excluded.last_transaction_at, frequency = excluded.frequency,
         purchase_days = excluded.purchase_days, purchases_cents = excluded.purchases_cents,
         returns_cents = excluded.returns_cents, return_count = excluded.return_count,
         monetary_cents = excluded.monetary_cents, return_rate = excluded.return_rate,
         extra_features = excluded.extra_features, updated_at = excluded.updated_at`,
    )
    .bind(fileId, projectId, excludeFile ? fileId : "", Date.now());
}

/**
 * The file's sales per day (daily_sales), from its own rows: rewriting them makes a rerun change
 * nothing. An order is a customer's order id (a line without one is an order of its own).
 */
const DAILY_SALES_SELECT = `SELECT file_id, project_id, order_day,
    COUNT(DISTINCT CASE WHEN is_return = 0 THEN json_array(customer_id, COALESCE(order_id, ':' || row_number)) END),
    SUM(is_return = 0), COALESCE(SUM(CASE WHEN is_return = 0 THEN amount_cents END), 0),
    SUM(is_return = 1), COALESCE(SUM(CASE WHEN is_return = 1 THEN amount_cents END), 0),
    SUM(CASE WHEN is_return = 0 THEN quantity END)
  FROM transactions`;

function dailySalesStatements(d1: D1Database, fileId: string) {
  return [
    d1.prepare("DELETE FROM daily_sales WHERE file_id = ?1").bind(fileId),
    d1
      .prepare(
        `INSERT INTO daily_sales (file_id, project_id, day, orders, purchase_lines, revenue_cents, return_lines, returns_cents, quantity)
         ${DAILY_SALES_SELECT} WHERE file_id = ?1 GROUP BY file_id, project_id, order_day`,
      )
      .bind(fileId),
  ];
}

/** After a file's rows are in: its customers' aggregates and its daily sales, in one batch. */
export async function recomputeFromFile(d1: D1Database, projectId: string, fileId: string) {
  await d1.batch([recomputeStatement(d1, projectId, fileId, false), ...dailySalesStatements(d1, fileId)]);
}

/**
 * Takes a file's rows out of the project in one atomic batch: the touched customers are recomputed
 * without them, customers left with no transactions are removed, then the rows are deleted.
 */
export async function removeFileTransactions(d1: D1Database, projectId: string, fileId: string) {
  await d1.batch([
    recomputeStatement(d1, projectId, fileId, true),
    d1
      .prepare(
        `DELETE FROM customers WHERE project_id = ?2
           AND customer_id IN (SELECT customer_id FROM transactions WHERE file_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM transactions x WHERE x.project_id = ?2 AND x.customer_id = customers.customer_id AND x.file_id <> ?1)`,
      )
      .bind(fileId, projectId),
    d1.prepare("DELETE FROM daily_sales WHERE file_id = ?1").bind(fileId),
    d1.prepare("DELETE FROM transactions WHERE file_id = ?1").bind(fileId),
  ]);
}
