import { MappingError, resolveColumns, type ColumnMapping } from "../../ingest/columns";
import { toCsv } from "../../ingest/csv";
import { ApiError, invalidField, type FieldError } from "../../errors";
import { sha256Hex } from "../../lib/crypto";

const LEADING = ["customer_id", "order_date", "amount"];

/** The columns of the CSV made of API records: known fields first, then every other key in the order first seen. */
export function recordColumns(records: ReadonlyArray<Record<string, unknown>>): string[] {
  const columns = new Set<string>();
  for (const key of LEADING) if (records.some((r) => key in r)) columns.add(key);
  for (const record of records) for (const key of Object.keys(record)) columns.add(key);
  return [...columns];
}

/** API records as a CSV file under `recordColumns`. */
export function recordsToCsv(records: ReadonlyArray<Record<string, unknown>>): string {
  const header = recordColumns(records);
  return toCsv(
    header,
    records.map((record) => header.map((key) => cellText(record[key]))),
  );
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

/**
 * The field of API records holding the customer id, as the ingest consumer will read the columns. The
 * records are all here, so a mapping naming a field none of them has, or no recognisable customer,
 * date or amount field, is a 400 now rather than a job that fails after the 202.
 */
export function customerIdField(records: ReadonlyArray<Record<string, unknown>>, mapping: ColumnMapping = {}): string {
  const header = recordColumns(records);
  try {
    return header[resolveColumns(header, mapping).customer_id]!;
  } catch (error) {
    if (error instanceof MappingError) throw invalidField(error.path ?? "records", "invalid_value", error.message);
    throw error;
  }
}

/** The customer ids of API records, for the profiles quota. */
export function customerIdsOf(records: ReadonlyArray<Record<string, unknown>>, key: string): string[] {
  return records.map((record) => cellText(record[key]).trim()).filter((id) => id !== "");
}

// With the u flag a surrogate class matches only unpaired surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * JSON may carry unpaired surrogates (`"\ud800"`), which UTF-8 cannot hold: stored, they would turn
 * into U+FFFD silently and distinct ids could collide. Such records are refused (400) with their path.
 */
export function assertWellFormedText(records: ReadonlyArray<Record<string, unknown>>) {
  const errors: FieldError[] = [];
  records.forEach((record, i) => {
    for (const [key, value] of Object.entries(record)) {
      if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value))) {
        errors.push({ path: `records.${i}.${key}`, code: "invalid_string", message: "holds an unpaired UTF-16 surrogate, which is not valid Unicode text" });
      }
    }
  });
  if (errors.length > 0) throw new ApiError("validation_error", errors.slice(0, 100));
}

/** JSON with every object's keys sorted, so that the same records spelt in another key order hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What tells a repeated API batch from a different one under the same batch_id: its records and mapping. */
export function batchPayloadSha256(records: ReadonlyArray<Record<string, unknown>>, mapping: ColumnMapping | undefined): Promise<string> {
  return sha256Hex(canonicalJson({ records, mapping: mapping ?? null }));
}
