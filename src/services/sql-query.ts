import { guardQuery, QueryRejected } from "../analytics/sql-guard";
import { ApiError } from "../errors";
import type { AnalyticsScope } from "./analytics-scope";

/** Rows a query returns at most; more are cut and `truncated` is set. */
export const ROW_CAP = 10_000;
/** How long the caller waits for an answer. D1 cannot cancel the query; the guard keeps runaways out. */
export const TIME_CAP_MS = 10_000;

class QueryTimedOut extends Error {}

type ColumnType = "int64" | "float64" | "string" | "bytes" | "null";

/**
 * Runs a guarded query over the caller's star schema. Columns are typed from their values: integer
 * columns come back as strings (SQLite integers are 64-bit; JSON numbers are not), reals as numbers.
 * D1 cannot cancel a running query from a Worker, so the guard refuses what could run away up front.
 */
export async function runAnalyticsQuery(d1: D1Database, scope: AnalyticsScope, query: string) {
  let guarded;
  try {
    guarded = guardQuery(query, scope);
  } catch (error) {
    if (error instanceof QueryRejected) throw new ApiError("invalid_query", { reason: error.message, position: error.position ?? null }, { reason: error.message });
    throw error;
  }
  const started = Date.now();
  let rows: unknown[][];
  let names: string[];
  try {
    // Newlines keep a trailing `-- comment` in the query from swallowing the wrapper.
    const statement = d1.prepare(`SELECT * FROM (\n${guarded.sql}\n) LIMIT ${ROW_CAP + 1}`).bind(...guarded.params);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueryTimedOut()), TIME_CAP_MS);
    });
    const raw = await Promise.race([statement.raw({ columnNames: true }), timeout]).finally(() => timer !== null && clearTimeout(timer));
    names = (raw[0] ?? []) as string[];
    rows = raw.slice(1) as unknown[][];
  } catch (error) {
    if (error instanceof QueryTimedOut) {
      const reason = `the query ran longer than ${TIME_CAP_MS / 1000} s; aggregate or filter more`;
      throw new ApiError("invalid_query", { reason, position: null }, { reason });
    }
    // The guard passed it, but SQLite refused it (an unknown column, a type error): the caller's to fix.
    const reason = String(error instanceof Error ? error.message : error).replace(/^D1_ERROR:\s*/, "").replace(/:\s*SQLITE_ERROR$/, "").slice(0, 300);
    throw new ApiError("invalid_query", { reason, position: null }, { reason });
  }
  const elapsed = Date.now() - started;
  const truncated = rows.length > ROW_CAP;
  if (truncated) rows = rows.slice(0, ROW_CAP);
  const types = names.map((_, i) => columnType(rows, i));
  return {
    columns: names.map((name, i) => ({ name, type: types[i]! })),
    rows: rows.map((row) => row.map((value, i) => (types[i] === "int64" && typeof value === "number" ? String(value) : value instanceof ArrayBuffer ? [...new Uint8Array(value)] : value))),
    meta: { rows: rows.length, elapsed_ms: elapsed, truncated, tables: guarded.tables },
  };
}

function columnType(rows: unknown[][], i: number): ColumnType {
  let type: ColumnType = "null";
  for (const row of rows) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    const t: ColumnType = typeof v === "number" ? (Number.isInteger(v) ? "int64" : "float64") : typeof v === "string" ? "string" : "bytes";
    if (type === "null" || type === t) type = t;
    else if ((type === "int64" && t === "float64") || (type === "float64" && t === "int64")) type = "float64";
    else return "string";
  }
  return type;
}
