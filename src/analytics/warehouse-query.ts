import type { GuardedQuery } from "./sql-guard";

/** Rows a query returns at most; more are cut and `truncated` is set. */
export const ROW_CAP = 10_000;
/** Bytes of values an answer carries at most (counted while the cursor is read); more are cut. */
export const SIZE_CAP_BYTES = 5_000_000;

export type ColumnType = "int64" | "float64" | "string" | "bytes" | "null";
/** A value of an answer: int64 as decimal text, float64 as a number, bytes as an array of octets. */
export type AnswerValue = string | number | null | number[];
export type WarehouseAnswer =
  | { ok: true; columns: Array<{ name: string; type: ColumnType }>; rows: AnswerValue[][]; truncated: boolean; truncatedBy: "rows" | "size" | null; elapsedMs: number }
  /** `offset`: where SQLite placed the error in the guarded query's text (not the tenant's), if it did */
  | { ok: false; reason: string; offset: number | null };

const SQLITE_TYPES: Record<string, ColumnType> = { integer: "int64", real: "float64", text: "string", blob: "bytes", null: "null" };

/**
 * Runs a guarded query in the warehouse's SQLite. Each value comes with its SQLite type, and integers
 * as decimal text made by SQLite itself, so 64-bit integers stay exact (a JS number is not) and 3.0
 * stays a float. Rows are read one at a time and reading stops at ROW_CAP rows or SIZE_CAP_BYTES.
 */
export function runWarehouseQuery(sql: SqlStorage, guarded: GuardedQuery): WarehouseAnswer {
  const started = Date.now();
  // Newlines keep a trailing `-- comment` in the query from swallowing the wrapper.
  const inner = `SELECT * FROM (\n${guarded.sql}\n)`;
  // How far into the statement being run the guarded query starts, to place SQLite's error offsets in it.
  let prefix = "SELECT * FROM (\n".length;
  try {
    const names = sql.exec(`${inner} LIMIT 0`, ...guarded.params).columnNames;
    const aliases = names.map((_, i) => `c${i}`);
    const typed = aliases.map((c) => `typeof(${c}), CASE WHEN typeof(${c}) = 'integer' THEN CAST(${c} AS TEXT) ELSE ${c} END`).join(", ");
    const answer = `WITH __answer(${aliases.join(", ")}) AS (`;
    prefix += answer.length;
    const cursor = sql.exec(`${answer}${inner}) SELECT ${typed} FROM __answer LIMIT ${ROW_CAP + 1}`, ...guarded.params);
    const rows: AnswerValue[][] = [];
    const types: ColumnType[] = names.map(() => "null");
    let bytes = 0;
    let truncatedBy: "rows" | "size" | null = null;
    for (const raw of cursor.raw()) {
      if (rows.length === ROW_CAP) {
        truncatedBy = "rows";
        break;
      }
      const row: AnswerValue[] = [];
      for (let i = 0; i < names.length; i++) {
        const type = SQLITE_TYPES[raw[2 * i] as string] ?? "string";
        const value = raw[2 * i + 1];
        types[i] = mergeType(types[i]!, type);
        bytes += sizeOf(value);
        row.push(value instanceof ArrayBuffer ? [...new Uint8Array(value)] : (value as string | number | null));
      }
      if (bytes > SIZE_CAP_BYTES) {
        truncatedBy = "size";
        break;
      }
      rows.push(row);
    }
    return {
      ok: true,
      columns: names.map((name, i) => ({ name, type: types[i]! })),
      // A column holding integers and reals is float64: its integers become numbers too.
      rows: rows.map((row) => row.map((value, i) => (types[i] === "float64" && typeof value === "string" ? Number(value) : value))),
      truncated: truncatedBy !== null,
      truncatedBy,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    // The guard passed it, but SQLite refused it (an unknown column, a type error): the caller's to fix.
    // SQLite's "at offset N" counts in the statement run here; the caller maps it to the tenant's text.
    const message = String(error instanceof Error ? error.message : error).replace(/:\s*SQLITE_[A-Z_]+$/, "");
    const at = / at offset (\d+)\b/.exec(message);
    return { ok: false, reason: message.replace(/ at offset \d+\b/, "").slice(0, 300), offset: at ? Number(at[1]) - prefix : null };
  }
}

function mergeType(known: ColumnType, next: ColumnType): ColumnType {
  if (next === "null" || known === next) return known;
  if (known === "null") return next;
  if ((known === "int64" && next === "float64") || (known === "float64" && next === "int64")) return "float64";
  return "string";
}

function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (value instanceof ArrayBuffer) return value.byteLength * 4;
  return 8;
}
