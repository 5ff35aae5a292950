import { limitError, MAX_CELLS } from "./limits";
import { isoDay, periodTable } from "./periods";
import { customerCount, type PurchaseLog } from "./purchase-log";

export type CohortCell = { cohort_on: string; activity_on: string; user_count: number };

/**
 * The retention matrix. `new`: a customer's cohort is the period of their first purchase ever;
 * `active`: a customer belongs to the cohort of every period they purchased in. A cell counts the
 * cohort's customers who purchased in the activity period, so the period-0 cell is the cohort's size.
 */
export function cohortCells(log: PurchaseLog, interval: "week" | "month", userType: "new" | "active"): CohortCell[] {
  if (customerCount(log) === 0) return [];
  const { customerStart, day, firstDay, lastDay } = log;
  const periodOf = periodTable(interval, firstDay, lastDay);
  const base = periodOf(firstDay);
  const width = lastDay - base + 1;
  const cells = new Map<number, number>();
  const periods: number[] = [];
  for (let c = 0; c < customerCount(log); c++) {
    distinctPeriods(customerStart[c]!, customerStart[c + 1]!, day, periodOf, periods);
    const from = userType === "new" ? 1 : periods.length;
    for (let i = 0; i < from; i++) {
      for (let j = i; j < periods.length; j++) {
        const key = (periods[i]! - base) * width + (periods[j]! - base);
        const count = cells.get(key);
        if (count === undefined && cells.size >= MAX_CELLS) throw limitError("crm-limit:answer", `more than ${MAX_CELLS} cohort × period cells`);
        cells.set(key, (count ?? 0) + 1);
      }
    }
  }
  return [...cells].map(([key, user_count]) => ({
    cohort_on: isoDay(base + Math.floor(key / width)),
    activity_on: isoDay(base + (key % width)),
    user_count,
  }));
}

/** The periods of lines [start, end) (a customer's, in day order) ascending without repeats, into `out`. */
export function distinctPeriods(start: number, end: number, day: Int32Array, periodOf: (day: number) => number, out: number[]) {
  out.length = 0;
  for (let i = start; i < end; i++) {
    const p = periodOf(day[i]!);
    if (out.length === 0 || out[out.length - 1] !== p) out.push(p);
  }
}
