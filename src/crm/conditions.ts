import { invalidField } from "../errors";

/**
 * The condition language of customer filters (`customer-filters.ts`), evaluated in JavaScript over the
 * values of CRM analytics, with SQLite's meaning so that a filter reads the same wherever it is used:
 * NULL matches nothing (not even `neq`), numbers sort before text, `contains` is ASCII case-insensitive.
 */
export type Scalar = string | number | boolean;
export type CrmCondition = { field: string; op: string; value?: Scalar; values?: Scalar[]; min?: Scalar; max?: Scalar };
export type Value = string | number | null;

const asValue = (v: Scalar): string | number => (typeof v === "boolean" ? (v ? 1 : 0) : v);

/** SQLite's ordering of two non-NULL values. */
export function compareValues(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

function holds(c: CrmCondition, v: Value): boolean {
  if (v === null) return false;
  const cmp = (x: Scalar) => compareValues(v, asValue(x));
  switch (c.op) {
    case "eq":
      return cmp(c.value!) === 0;
    case "neq":
      return cmp(c.value!) !== 0;
    case "gt":
      return cmp(c.value!) > 0;
    case "gte":
      return cmp(c.value!) >= 0;
    case "lt":
      return cmp(c.value!) < 0;
    case "lte":
      return cmp(c.value!) <= 0;
    case "range":
      return (c.min === undefined || cmp(c.min) >= 0) && (c.max === undefined || cmp(c.max) <= 0);
    case "in":
      return c.values!.some((x) => cmp(x) === 0);
    case "contains":
      return asciiLower(String(v)).includes(asciiLower(String(c.value)));
    default:
      return false;
  }
}

/** True when every condition on `field` holds for `value` (conditions on other fields are ignored). */
export function matches(conditions: readonly CrmCondition[], field: string, value: Value): boolean {
  return conditions.every((c) => c.field !== field || holds(c, value));
}

/** True when every condition holds for the record's field values. */
export function matchesRecord(conditions: readonly CrmCondition[], record: Record<string, unknown>): boolean {
  return conditions.every((c) => holds(c, (record[c.field] ?? null) as Value));
}

/**
 * `+a,-b` into a comparator over allow-listed output columns (SQLite order: NULL first ascending),
 * followed by the default order so that ties come out the same on every call.
 */
export function orderComparator<T extends Record<string, unknown>>(orderBy: string | undefined, allowed: readonly string[], fallback: readonly string[]) {
  const terms = (orderBy ? orderBy.split(",") : []).map((part, i) => {
    const term = part.trim();
    const name = term.replace(/^[+-]/, "");
    if (!allowed.includes(name)) {
      throw invalidField("order_by", "invalid_value", `order_by term ${i + 1} "${name}" is not one of ${allowed.join(", ")}`);
    }
    return { name, direction: term.startsWith("-") ? -1 : 1 };
  });
  for (const name of fallback) terms.push({ name, direction: 1 });
  return (a: T, b: T) => {
    for (const { name, direction } of terms) {
      const x = (a[name] ?? null) as Value;
      const y = (b[name] ?? null) as Value;
      const order = x === null ? (y === null ? 0 : -1) : y === null ? 1 : compareValues(x, y);
      if (order !== 0) return order * direction;
    }
    return 0;
  };
}
