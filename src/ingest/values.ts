import type { DateFormat } from "./columns";

/** A value that could not be read, with the reason a person would need to fix it. */
export class ValueError extends Error {}

const DAY_MS = 86_400_000;

function utcDate(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1900 || year > 9999) return undefined;
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? ms : undefined;
}

export type ParsedDate = { at: number; day: string };

const dayString = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Reads ISO-8601 (date or date-time), YYYYMMDD, DD.MM.YYYY and slash dates. A slash date whose day
 * and month could be swapped (both ≤ 12 and different) needs `format`; it is never guessed.
 */
export function parseDate(raw: string, format?: DateFormat): ParsedDate {
  const text = raw.trim();
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text))) return fromParts(+m[1]!, +m[2]!, +m[3]!, text);
  if ((m = /^(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}/.exec(text))) {
    // The calendar day as written must exist (Date.parse would roll 2025-02-30 over into March).
    if (utcDate(+m[1]!, +m[2]!, +m[3]!) === undefined) throw new ValueError(`order_date "${raw}" is not a valid date`);
    const iso = text.replace(" ", "T");
    // A time without a zone is taken as UTC, so the same file reads the same everywhere.
    const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`;
    const at = Date.parse(withZone);
    if (Number.isNaN(at)) throw new ValueError(`order_date "${raw}" is not a valid date`);
    return { at, day: text.slice(0, 10) };
  }
  if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(text))) return fromParts(+m[1]!, +m[2]!, +m[3]!, raw);
  if ((m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(text))) return fromParts(+m[3]!, +m[2]!, +m[1]!, raw);
  if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text))) {
    const [first, second, year] = [+m[1]!, +m[2]!, +m[3]!];
    if (format === "DD/MM/YYYY") return fromParts(year, second, first, raw);
    if (format === "MM/DD/YYYY") return fromParts(year, first, second, raw);
    const asMonthDay = utcDate(year, first, second);
    const asDayMonth = utcDate(year, second, first);
    if (asMonthDay !== undefined && asDayMonth !== undefined && asMonthDay !== asDayMonth) {
      throw new ValueError(`order_date "${raw}" is ambiguous (MM/DD or DD/MM); set mapping.date_format`);
    }
    const at = asMonthDay ?? asDayMonth;
    if (at === undefined) throw new ValueError(`order_date "${raw}" is not a valid date`);
    return { at, day: dayString(at) };
  }
  throw new ValueError(`order_date "${raw}" is not in a supported format (YYYY-MM-DD, ISO date-time, YYYYMMDD, DD.MM.YYYY, MM/DD/YYYY)`);
}

function fromParts(year: number, month: number, day: number, raw: string): ParsedDate {
  const at = utcDate(year, month, day);
  if (at === undefined) throw new ValueError(`order_date "${raw}" is not a valid date`);
  return { at, day: dayString(at) };
}

/** Whether a date lies beyond today (with a day of slack for time zones ahead of UTC). */
export const isInFuture = (at: number, now = Date.now()) => at > now + DAY_MS;

/**
 * Reads a decimal amount: `1234.56`, `-12`, `1,234.56`, `1.234,56`, `12,5`, with an optional currency
 * symbol or code around it. A lone comma followed by exactly three digits (`1,234`) is ambiguous and
 * refused.
 */
export function parseAmount(raw: string, field = "amount"): number {
  let text = raw.trim().replace(/^[A-Z]{3}\s*|\s*[A-Z]{3}$/g, "").replace(/[$€£₺¥\s\u00a0]/g, "");
  let negative = false;
  if (/^\(.*\)$/.test(text)) [text, negative] = [text.slice(1, -1), true];
  if (text.startsWith("-")) [text, negative] = [text.slice(1), !negative];
  else if (text.startsWith("+")) text = text.slice(1);
  let normalized: string;
  if (/^\d+(\.\d+)?$/.test(text)) normalized = text;
  else if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(text) && text.includes(".")) normalized = text.replaceAll(",", "");
  else if (/^\d{1,3}(\.\d{3})+,\d+$/.test(text)) normalized = text.replaceAll(".", "").replace(",", ".");
  else if (/^\d+,\d{1,2}$/.test(text) || /^\d+,\d{4,}$/.test(text)) normalized = text.replace(",", ".");
  else if (/^\.\d+$/.test(text)) normalized = `0${text}`;
  else if (text === "") throw new ValueError(`${field} is empty`);
  else throw new ValueError(`${field} "${raw}" is not a number`);
  const value = Number(normalized);
  if (!Number.isFinite(value) || value > 1e12) throw new ValueError(`${field} "${raw}" is out of range`);
  return negative ? -value : value;
}

const TRUE = new Set(["true", "1", "yes", "y", "t", "x", "returned", "return", "refund", "evet"]);
const FALSE = new Set(["false", "0", "no", "n", "f", "", "hayır", "hayir"]);

export function parseFlag(raw: string, field: string): boolean {
  const text = raw.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ValueError(`${field} "${raw}" is not a yes/no value`);
}

/** Money in integer cents, rounded half away from zero. */
export const toCents = (amount: number) => Math.sign(amount) * Math.round(Math.abs(amount) * 100);
