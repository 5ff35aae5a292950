/**
 * Calendar arithmetic of CRM analytics on day numbers (days since 1970-01-01, UTC), the form the
 * purchase log keeps its `order_day`s in. A period is named by the day number of its first day.
 */
export type Interval = "day" | "week" | "month" | "overall";

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' → day number. */
export function dayNumber(isoDay: string): number {
  return Math.floor(Date.parse(`${isoDay}T00:00:00Z`) / DAY_MS);
}

/** Day number → 'YYYY-MM-DD'. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** First day of the period `day` falls in; weeks start on Monday, `overall` is one period (0). */
export function periodStart(interval: Interval, day: number): number {
  switch (interval) {
    case "day":
      return day;
    case "week":
      // Day 0 was a Thursday, so (day + 3) % 7 counts the days since Monday.
      return day - ((((day + 3) % 7) + 7) % 7);
    case "month": {
      const date = new Date(day * DAY_MS);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / DAY_MS;
    }
    case "overall":
      return 0;
  }
}

/** Last day of the period starting on `start`. */
export function periodEnd(interval: "week" | "month", start: number): number {
  if (interval === "week") return start + 6;
  const date = new Date(start * DAY_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS - 1;
}

/**
 * periodStart for every day of [firstDay, lastDay] as one lookup table: the analyses map a million
 * purchase days to periods, and there are only as many distinct days as the history is long.
 */
export function periodTable(interval: Interval, firstDay: number, lastDay: number): (day: number) => number {
  const table = new Int32Array(Math.max(0, lastDay - firstDay + 1));
  for (let d = firstDay; d <= lastDay; d++) table[d - firstDay] = periodStart(interval, d);
  return (day) => table[day - firstDay]!;
}

/** The start of the period `n` periods before the one `day` falls in. */
export function periodsBefore(interval: "week" | "month", day: number, n: number): number {
  const start = periodStart(interval, day);
  if (interval === "week") return start - 7 * n;
  const date = new Date(start * DAY_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - n, 1) / DAY_MS;
}

/** The starts of the periods covering [from, to] (day numbers), at most `max` of them. */
export function periodsBetween(interval: "week" | "month", from: number, to: number, max: number): number[] {
  const starts: number[] = [];
  for (let s = periodStart(interval, from); s <= to && starts.length < max; s = periodEnd(interval, s) + 1) starts.push(s);
  return starts;
}
