import { z } from "@hono/zod-openapi";

/**
 * The condition language of rule segments and customer filters: a list of conditions, all of which
 * must hold. Fields come from an allow-list (profile fields, or `extra_features.<key>`); every value
 * travels as a bound parameter, so neither a field name nor a value can change the SQL's shape.
 */
type FieldType = "number" | "text" | "time";

/** Public field → SQL expression over the `customers` table, and its type. */
export const filterFields: Record<string, { sql: string; type: FieldType; values?: readonly string[] }> = {
  customer_id: { sql: "customers.customer_id", type: "text" },
  rfm_recency_days: { sql: "customers.rfm_recency_days", type: "number" },
  rfm_frequency: { sql: "customers.frequency", type: "number" },
  rfm_monetary: { sql: "(customers.monetary_cents / 100.0)", type: "number" },
  return_rate: { sql: "customers.return_rate", type: "number" },
  churn_score: { sql: "customers.churn_score", type: "number" },
  churn_risk: { sql: "customers.churn_risk", type: "text", values: ["low", "medium", "high"] },
  expected_purchases_90d: { sql: "customers.expected_purchases_90d", type: "number" },
  abc_category: { sql: "customers.abc_category", type: "text", values: ["A", "B", "C"] },
  uplift_score: { sql: "customers.uplift_score", type: "number" },
  segment_id: { sql: "customers.segment_id", type: "text" },
  segment_label: { sql: "customers.segment_label", type: "text" },
  first_purchase_at: { sql: "customers.first_purchase_at", type: "time" },
  last_transaction_at: { sql: "customers.last_transaction_at", type: "time" },
};

export const EXTRA_PREFIX = "extra_features.";
export const EXTRA_KEY = /^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$/;

const Scalar = z.union([z.string().max(500), z.number().finite(), z.boolean()]);

/**
 * The condition schema over a set of fields: the same operators wherever conditions are used
 * (customer filters, rule segments, CRM analytics filters).
 */
export function conditionSchema(field: z.ZodType<string>, name: string) {
  return z
    .discriminatedUnion("op", [
      z.object({ field, op: z.literal("range"), min: Scalar.optional(), max: Scalar.optional() }).strict(),
      z.object({ field, op: z.literal("in"), values: z.array(Scalar).min(1).max(100) }).strict(),
      z.object({ field, op: z.enum(["eq", "neq", "gt", "gte", "lt", "lte"]), value: Scalar }).strict(),
      z.object({ field, op: z.literal("contains"), value: z.string().min(1).max(200) }).strict(),
    ])
    .refine((c) => c.op !== "range" || c.min !== undefined || c.max !== undefined, { message: "range needs min, max or both" })
    .refine((c) => c.op !== "range" || c.min === undefined || c.max === undefined || typeof c.min !== typeof c.max || !(c.min > c.max), {
      message: "range min is greater than max",
    })
    .openapi(name, {
      description: "One condition. `range` takes min and/or max (inclusive); `in` takes values; eq/neq/gt/gte/lt/lte take value; contains takes a text value.",
    });
}

const FieldName = z
  .string()
  .max(100)
  .refine((f) => f in filterFields || (f.startsWith(EXTRA_PREFIX) && EXTRA_KEY.test(f.slice(EXTRA_PREFIX.length))), {
    message: `unknown field; use one of ${Object.keys(filterFields).join(", ")} or extra_features.<key>`,
  })
  .openapi({ example: "rfm_monetary" });

export const Condition = conditionSchema(FieldName, "Condition");
export type Condition = z.infer<typeof Condition>;

export const Conditions = z.array(Condition).max(50).openapi("Conditions", {
  example: [
    { field: "rfm_monetary", op: "range", min: 1000, max: 50000 },
    { field: "churn_risk", op: "in", values: ["low", "medium"] },
  ],
});

export class FilterError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

type Compiled = { sql: string; params: unknown[] };

const OPERATORS = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

/** SQL for one side of a comparison: the column, and a value converted to the column's type. */
function operand(field: string, index: number) {
  if (field.startsWith(EXTRA_PREFIX)) {
    const key = field.slice(EXTRA_PREFIX.length);
    // The JSON path is a bound parameter too; quoting the key keeps dots and spaces literal.
    return { sql: "json_extract(customers.extra_features, ?)", params: [`$."${key}"`], type: "any" as const, convert: (v: unknown) => v };
  }
  const spec = filterFields[field]!;
  const convert = (value: unknown) => {
    if (spec.type === "number") {
      if (typeof value !== "number") throw new FilterError(`${index}`, `${field} compares with numbers`);
      return value;
    }
    if (spec.type === "time") {
      const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : NaN;
      if (!Number.isFinite(ms)) throw new FilterError(`${index}`, `${field} compares with ISO-8601 dates`);
      return ms;
    }
    if (typeof value !== "string") throw new FilterError(`${index}`, `${field} compares with text`);
    if (spec.values && !spec.values.includes(value)) throw new FilterError(`${index}`, `${field} is one of ${spec.values.join(", ")}`);
    return value;
  };
  return { sql: spec.sql, params: [] as unknown[], type: spec.type, convert };
}

/** Compiles conditions into a parameterized WHERE fragment over `customers` (`1 = 1` when empty). */
export function compileConditions(conditions: readonly Condition[]): Compiled {
  const parts: string[] = [];
  const params: unknown[] = [];
  conditions.forEach((condition, index) => {
    const column = operand(condition.field, index);
    switch (condition.op) {
      case "range": {
        if (condition.min !== undefined) {
          parts.push(`${column.sql} >= ?`);
          params.push(...column.params, column.convert(condition.min));
        }
        if (condition.max !== undefined) {
          parts.push(`${column.sql} <= ?`);
          params.push(...column.params, column.convert(condition.max));
        }
        break;
      }
      case "in": {
        parts.push(`${column.sql} IN (${condition.values.map(() => "?").join(", ")})`);
        params.push(...column.params, ...condition.values.map(column.convert));
        break;
      }
      case "contains": {
        if (column.type === "number" || column.type === "time") throw new FilterError(`${index}`, `contains applies to text fields`);
        parts.push(`instr(lower(${column.sql}), lower(?)) > 0`);
        params.push(...column.params, condition.value);
        break;
      }
      default: {
        // neq keeps customers without a value (null) out, as SQL does; say so in the docs.
        parts.push(`${column.sql} ${OPERATORS[condition.op]} ?`);
        params.push(...column.params, column.convert(condition.value));
      }
    }
  });
  if (params.length > 90) throw new FilterError("", "too many values in the conditions (D1 binds at most 100 per statement)");
  return { sql: parts.length ? parts.join(" AND ") : "1 = 1", params };
}
