const DAY_MS = 86_400_000;
export const WEEK_DAYS = 7;

/** Whole days since the epoch (UTC) of a timestamp in milliseconds. */
export const epochDay = (ms: number) => Math.floor(ms / DAY_MS);

/**
 * A customer's purchase history in the BG/NBD model's terms, in weeks: x repeat purchases (distinct
 * purchase days after the first), t_x from the first to the last purchase, T from the first purchase
 * to the reference day.
 */
export function bgnbdTimeline(firstDay: number, lastDay: number, purchaseDays: number, referenceDay: number) {
  return {
    x: Math.max(0, purchaseDays - 1),
    tx: Math.max(0, lastDay - firstDay) / WEEK_DAYS,
    T: Math.max(0, referenceDay - firstDay) / WEEK_DAYS,
  };
}
