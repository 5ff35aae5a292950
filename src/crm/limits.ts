/**
 * What one PurchaseHistory holds and answers, sized for the 128 MB of a Durable Object: a line costs
 * ~29 bytes (day, amount, order, rowid, file) plus 4 per dimension held and the customer ids, so 1.5M lines with 4 dimensions
 * come to ~62 MB, leaving room for a page being read and the answer being built.
 */
export const MAX_PURCHASE_LINES = 1_500_000;
/**
 * A project past one object's lines is split by customer into objects planned at two thirds of it
 * each (room to grow before the next split), at most MAX_SHARDS of them: 128 × 1M = 128M purchase
 * lines per project, above the Pro plan's 100M rows (src/billing/plans.ts).
 */
export const SHARD_FILL = 2 / 3;
export const MAX_SHARDS = 128;
export const MAX_DIMENSIONS = 4;
/** Distinct values of one group_by key (a key such as an order number is not a dimension). */
export const MAX_DIMENSION_VALUES = 10_000;
/** Rows of one answer before merging (period × dimension, cohort × activity period). */
export const MAX_CELLS = 200_000;
/** Periods of one lifecycle answer (ten years of weeks). */
export const MAX_PERIODS = 520;

/**
 * A limit was reached. Errors cross the Durable Object boundary as their message only, so the
 * message starts with the kind, which crm-analytics.ts turns into a 422.
 */
export type LimitKind = "crm-limit:lines" | "crm-limit:answer";
export const limitError = (kind: LimitKind, detail: string) => new Error(`${kind} ${detail}`);
export function limitOf(error: unknown): { kind: LimitKind; detail: string } | null {
  const message = error instanceof Error ? error.message : String(error);
  const match = /(crm-limit:(?:lines|answer)) (.*)$/s.exec(message);
  return match ? { kind: match[1] as LimitKind, detail: match[2]! } : null;
}
