/**
 * Time buckets in an IANA time zone. Boundaries are local wall-clock starts (midnight, the hour, the
 * first of the month) turned into UTC instants, so a day across a DST change is 23 or 25 hours long and
 * half- or quarter-hour offsets (Asia/Kolkata, Asia/Kathmandu) fall where people expect them.
 */
export type Granularity = "hour" | "day" | "month";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

type Wall = { year: number; month: number; day: number; hour: number; minute: number; second: number };

/** The local wall-clock time of an instant in a zone. */
export function wallTime(ms: number, tz: string): Wall {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour!, minute: +parts.minute!, second: +parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (local = UTC + offset). */
export function zoneOffset(ms: number, tz: string): number {
  const w = wallTime(ms, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The first instant at which the local clock shows this wall time or later: a wall time skipped by a
 * DST jump maps to the instant the clock jumps past it.
 */
export function localToUtc(year: number, month: number, day: number, hour: number, tz: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour);
  let guess = asUtc - zoneOffset(asUtc, tz);
  // Two refinements settle offsets that change between the guess and the answer.
  for (let i = 0; i < 2; i++) guess = asUtc - zoneOffset(guess, tz);
  const candidates = [guess, asUtc - zoneOffset(guess - 3_600_000, tz), asUtc - zoneOffset(guess + 3_600_000, tz)];
  const target = asUtc;
  let best = Infinity;
  for (const c of candidates) {
    const w = wallTime(c, tz);
    const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    if (local >= target && c < best) best = c;
  }
  return best === Infinity ? guess : best;
}

/** The start of the bucket containing an instant. */
export function bucketStart(ms: number, granularity: Granularity, tz: string): number {
  const w = wallTime(ms, tz);
  if (granularity === "hour") {
    // An hour bucket starts at the last local full hour; with a :30 or :45 offset that is still local.
    return ms - ((w.minute * 60 + w.second) * 1000 + (((ms % 1000) + 1000) % 1000));
  }
  if (granularity === "day") return localToUtc(w.year, w.month, w.day, 0, tz);
  return localToUtc(w.year, w.month, 1, 0, tz);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, granularity: Granularity, tz: string): number {
  if (granularity === "hour") return start + 3_600_000;
  const w = wallTime(start, tz);
  if (granularity === "day") {
    const next = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
    return localToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, tz);
  }
  const next = new Date(Date.UTC(w.year, w.month, 1));
  return localToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, 1, 0, tz);
}

/**
 * Bucket starts covering [start, end), at most `limit` of them: the latest `limit` when there are more.
 * Walked back from `end`, so a range of decades costs `limit` steps and still ends with today.
 */
export function bucketRange(start: number, end: number, granularity: Granularity, tz: string, limit = 500): number[] {
  const first = bucketStart(start, granularity, tz);
  const starts: number[] = [];
  for (let b = bucketStart(end - 1, granularity, tz); b >= first && starts.length < limit; b = bucketStart(b - 1, granularity, tz)) starts.push(b);
  return starts.reverse();
}

/** ISO-8601 with the zone's offset at that instant, e.g. 2026-03-29T00:00:00+01:00. */
export function isoInZone(ms: number, tz: string): string {
  const w = wallTime(ms, tz);
  const offsetMinutes = Math.round(zoneOffset(ms, tz) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number, len = 2) => String(n).padStart(len, "0");
  const zone = offsetMinutes === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${zone}`;
}

/** Calendar day (YYYY-MM-DD) of an instant in a zone. */
export function localDay(ms: number, tz: string): string {
  const w = wallTime(ms, tz);
  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}
