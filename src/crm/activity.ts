import { matches, type CrmCondition, type Value } from "./conditions";
import { limitError, MAX_CELLS } from "./limits";
import { isoDay, periodTable, type Interval } from "./periods";
import { customerCount, type Dimension, type PurchaseLog } from "./purchase-log";

export type ActivityCell = {
  activity_on: string | null;
  dimension: Value;
  active_customers: number;
  first_time_customers: number;
  orders: number;
  revenue_cents: number;
};

type Group = ActivityCell & { lastCustomer: number; sharedOrders: Set<number> | null };

/**
 * Purchases per period and dimension value: distinct customers, first-time customers (whose first
 * purchase ever falls in the period; overall, whose first purchase passes the `activity_on`
 * conditions), distinct orders and revenue. Conditions on `activity_on` (the order day) and
 * `dimension` select lines before grouping; a customer's first purchase is found over all lines.
 */
export function activityCells(log: PurchaseLog, interval: Interval, dimension: Dimension | null, conditions: readonly CrmCondition[]): ActivityCell[] {
  if (customerCount(log) === 0) return [];
  const { customerStart, day, amountCents, order, sharedOrder, firstDay, lastDay } = log;
  const periodOf = periodTable(interval, firstDay, lastDay);
  // Conditions are decided once per distinct day and dimension value, not per line.
  const dayPasses = new Uint8Array(lastDay - firstDay + 1);
  for (let d = firstDay; d <= lastDay; d++) dayPasses[d - firstDay] = matches(conditions, "activity_on", isoDay(d)) ? 1 : 0;
  const values = dimension?.values ?? [null];
  const valuePasses = values.map((v) => matches(conditions, "dimension", v));
  const codes = dimension?.codes;

  const groups = new Map<number, Group>();
  for (let c = 0; c < customerCount(log); c++) {
    const start = customerStart[c]!;
    const end = customerStart[c + 1]!;
    const first = day[start]!;
    const firstPeriod = interval === "overall" ? -1 : periodOf(first);
    const firstCounts = interval === "overall" && dayPasses[first - firstDay] === 1;
    for (let i = start; i < end; i++) {
      if (dayPasses[day[i]! - firstDay] === 0) continue;
      const code = codes ? codes[i]! : 0;
      if (!valuePasses[code]) continue;
      const period = periodOf(day[i]!);
      const key = (period - firstDay + 1) * values.length + code;
      let group = groups.get(key);
      if (!group) {
        if (groups.size >= MAX_CELLS) throw limitError("crm-limit:answer", `more than ${MAX_CELLS} period × dimension rows`);
        group = {
          activity_on: interval === "overall" ? null : isoDay(period),
          dimension: values[code]!,
          active_customers: 0,
          first_time_customers: 0,
          orders: 0,
          revenue_cents: 0,
          lastCustomer: -1,
          sharedOrders: null,
        };
        groups.set(key, group);
      }
      if (group.lastCustomer !== c) {
        group.lastCustomer = c;
        group.active_customers++;
        if (firstCounts || firstPeriod === period) group.first_time_customers++;
      }
      if (sharedOrder[i] === 0) group.orders++;
      else if (!(group.sharedOrders ??= new Set()).has(order[i]!)) {
        group.sharedOrders.add(order[i]!);
        group.orders++;
      }
      group.revenue_cents += amountCents[i]!;
    }
  }
  return [...groups.values()].map(({ lastCustomer: _, sharedOrders: __, ...cell }) => cell);
}
