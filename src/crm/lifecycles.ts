import { isoDay, periodEnd, periodTable } from "./periods";
import { customerCount, type PurchaseLog } from "./purchase-log";

export const lifecycleStages = ["new", "active", "dormant", "lapsed", "reactivated"] as const;
export type LifecycleStage = (typeof lifecycleStages)[number];
export type LifecycleCell = { activity_on: string; lifecycle_status: LifecycleStage; user_count: number };

type Thresholds = { dormantAfterDays: number; lapsedAfterDays: number };

/**
 * Customers per stage at the end of each period (the seed's "latest stage within the period"), each
 * counted once per period. With the last purchase on or before the period's last day: more than
 * `lapsedAfterDays` ago → lapsed; more than `dormantAfterDays` → dormant; otherwise new (first purchase
 * ever in this period), reactivated (bought in this period after a gap longer than dormantAfterDays)
 * or active. Customers whose first purchase comes after a period are not counted in it, and those who
 * bought before the first period are never new in it.
 */
export function lifecycleCells(log: PurchaseLog, interval: "week" | "month", periodStarts: readonly number[], thresholds: Thresholds): LifecycleCell[] {
  if (customerCount(log) === 0 || periodStarts.length === 0) return [];
  const { customerStart, day, firstDay, lastDay } = log;
  const periodOf = periodTable(interval, firstDay, lastDay);
  const counts = new Int32Array(periodStarts.length * lifecycleStages.length);
  const ends = periodStarts.map((s) => periodEnd(interval, s));
  // The customer's purchase periods, ascending, with the first and last purchase day in each.
  const starts: number[] = [];
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (let c = 0; c < customerCount(log); c++) {
    purchasePeriods(customerStart[c]!, customerStart[c + 1]!, day, periodOf, starts, firsts, lasts);
    const firstEver = firsts[0]!;
    let k = -1;
    for (let r = 0; r < periodStarts.length; r++) {
      const period = periodStarts[r]!;
      while (k + 1 < starts.length && starts[k + 1]! <= period) k++;
      if (k < 0) continue;
      const gap = ends[r]! - lasts[k]!;
      let stage: number;
      if (gap > thresholds.lapsedAfterDays) stage = 3;
      else if (gap > thresholds.dormantAfterDays) stage = 2;
      else if (firstEver >= period) stage = 0;
      else if (starts[k] === period && k > 0 && firsts[k]! - lasts[k - 1]! > thresholds.dormantAfterDays) stage = 4;
      else stage = 1;
      counts[r * lifecycleStages.length + stage]!++;
    }
  }
  const cells: LifecycleCell[] = [];
  periodStarts.forEach((period, r) => {
    lifecycleStages.forEach((stage, s) => {
      const n = counts[r * lifecycleStages.length + s]!;
      if (n > 0) cells.push({ activity_on: isoDay(period), lifecycle_status: stage, user_count: n });
    });
  });
  return cells;
}

/** A customer's purchase periods (lines [start, end) are in day order) with the first and last day in each. */
function purchasePeriods(start: number, end: number, day: Int32Array, periodOf: (day: number) => number, starts: number[], firsts: number[], lasts: number[]) {
  starts.length = firsts.length = lasts.length = 0;
  for (let i = start; i < end; i++) {
    const d = day[i]!;
    const p = periodOf(d);
    if (starts.length > 0 && starts[starts.length - 1] === p) {
      lasts[lasts.length - 1] = d;
    } else {
      starts.push(p);
      firsts.push(d);
      lasts.push(d);
    }
  }
}
