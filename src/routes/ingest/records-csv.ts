import { toCsv } from "../../ingest/csv";

const LEADING = ["customer_id", "order_date", "amount"];

/** API records as a CSV file: known fields first, then every other key in the order first seen. */
export function recordsToCsv(records: ReadonlyArray<Record<string, unknown>>): string {
  const columns = new Set<string>();
  for (const key of LEADING) if (records.some((r) => key in r)) columns.add(key);
  for (const record of records) for (const key of Object.keys(record)) columns.add(key);
  const header = [...columns];
  return toCsv(
    header,
    records.map((record) => header.map((key) => cellText(record[key]))),
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}
