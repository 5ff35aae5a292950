import { createColumnTable, readColumn as readStoredColumn, writeColumn as writeStoredColumn } from "../lib/stored-columns";
import type { Dimension, FileMark, PurchaseLog } from "./purchase-log";

/**
 * A purchase log kept in its Durable Object's SQLite storage, so that an object evicted from memory
 * (after a minute or two idle) reads a few megabytes of its own storage instead of a million rows from
 * D1. Columns are stored as raw bytes in chunks (src/lib/stored-columns.ts); only the latest version
 * is kept.
 */
const COLUMNS = ["customerStart", "day", "amountCents", "order", "sharedOrder", "rowid", "file"] as const;
type Meta = {
  version: number;
  firstDay: number;
  lastDay: number;
  nextOrder: number;
  files: Array<[number, FileMark]>;
  dimensions: Record<string, Dimension["values"]>;
};

export function createLogTables(sql: SqlStorage) {
  sql.exec(`CREATE TABLE IF NOT EXISTS log_meta (id INTEGER PRIMARY KEY CHECK (id = 1), meta TEXT NOT NULL)`);
  createColumnTable(sql, "log_chunks");
}

const writeColumn = (sql: SqlStorage, name: string, column: ArrayBufferView) => writeStoredColumn(sql, "log_chunks", name, column);
const readColumn = <T>(sql: SqlStorage, name: string, make: new (buffer: ArrayBuffer) => T): T => readStoredColumn(sql, "log_chunks", name, make);

function writeMeta(sql: SqlStorage, log: PurchaseLog) {
  const meta: Meta = {
    version: log.version,
    firstDay: log.firstDay,
    lastDay: log.lastDay,
    nextOrder: log.nextOrder,
    files: [...log.files],
    dimensions: Object.fromEntries([...log.dimensions].map(([k, d]) => [k, d.values])),
  };
  sql.exec("INSERT OR REPLACE INTO log_meta (id, meta) VALUES (1, ?)", JSON.stringify(meta));
}

/** Replaces the stored log (and its dimensions) with `log`. */
export function saveLog(storage: DurableObjectStorage, log: PurchaseLog) {
  storage.transactionSync(() => {
    storage.sql.exec("DELETE FROM log_chunks");
    for (const name of COLUMNS) writeColumn(storage.sql, name, log[name]);
    writeColumn(storage.sql, "customerIds", new TextEncoder().encode(JSON.stringify(log.customerIds)));
    for (const [key, dimension] of log.dimensions) writeColumn(storage.sql, `dimension:${key}`, dimension.codes);
    writeMeta(storage.sql, log);
  });
}

/** Stores the log's dimensions as they are now (one was added or dropped). */
export function saveDimensions(storage: DurableObjectStorage, log: PurchaseLog, added?: string) {
  storage.transactionSync(() => {
    storage.sql.exec("DELETE FROM log_chunks WHERE name LIKE 'dimension:%' AND substr(name, 11) NOT IN (SELECT value FROM json_each(?))", JSON.stringify([...log.dimensions.keys()]));
    if (added !== undefined) writeColumn(storage.sql, `dimension:${added}`, log.dimensions.get(added)!.codes);
    writeMeta(storage.sql, log);
  });
}

/** The keys of the dimensions stored with the log (without reading the columns). */
export function storedDimensionKeys(sql: SqlStorage): string[] {
  const meta = readMeta(sql);
  return meta ? Object.keys(meta.dimensions) : [];
}

/** The log's meta row, written only by writeMeta above (so typed, not re-validated), or null. */
function readMeta(sql: SqlStorage): Meta | null {
  const row = sql.exec<{ meta: string }>("SELECT meta FROM log_meta WHERE id = 1").toArray()[0];
  return row ? (JSON.parse(row.meta) as Meta) : null;
}

/** The stored log, or null when none was stored. */
export function loadLog(sql: SqlStorage): PurchaseLog | null {
  const meta = readMeta(sql);
  if (!meta) return null;
  // A log stored before files were tracked (no per-line file) is read again whole.
  if (meta.files === undefined) return null;
  const dimensions = new Map<string, Dimension>(
    Object.entries(meta.dimensions).map(([key, values]) => [key, { codes: readColumn(sql, `dimension:${key}`, Int32Array), values }]),
  );
  return {
    version: meta.version,
    firstDay: meta.firstDay,
    lastDay: meta.lastDay,
    nextOrder: meta.nextOrder,
    files: new Map(meta.files),
    customerIds: JSON.parse(new TextDecoder().decode(readColumn(sql, "customerIds", Uint8Array))) as string[],
    file: readColumn(sql, "file", Int32Array),
    customerStart: readColumn(sql, "customerStart", Int32Array),
    day: readColumn(sql, "day", Int32Array),
    amountCents: readColumn(sql, "amountCents", Float64Array),
    order: readColumn(sql, "order", Int32Array),
    sharedOrder: readColumn(sql, "sharedOrder", Uint8Array),
    rowid: readColumn(sql, "rowid", Float64Array),
    dimensions,
  };
}
