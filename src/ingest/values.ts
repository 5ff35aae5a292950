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
 * The currencies a sign may stand for, the one it means when nothing else says first. `$` and `¥` are
 * shared: the row's currency column (or `default_currency`) picks among them, otherwise USD and JPY.
 */
const SIGN_CURRENCIES: Record<string, readonly string[]> = {
  "€": ["EUR"],
  "£": ["GBP"],
  "₺": ["TRY"],
  "¥": ["JPY", "CNY"],
  $: ["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"],
};
const SIGNS = /[$€£₺¥]/g;

/** The currency an amount was written in: an ISO code (`EUR 7`, `5 TRY`) or a sign (`€3`), if any. */
export type AmountCurrency = { code: string } | { sign: string } | null;

/**
 * Reads a decimal amount: `1234.56`, `-12`, `1,234.56`, `1.234,56`, `12,5`, with an optional currency
 * sign or upper-case ISO code around it, which is returned so that it is kept, not dropped. A lone comma
 * followed by exactly three digits (`1,234`) is ambiguous and refused.
 */
export function parseMoney(raw: string, field = "amount"): { value: number; currency: AmountCurrency } {
  let text = raw.trim();
  let code: string | undefined;
  const coded = /^([A-Z]{3})\s*(.+)$/.exec(text) ?? /^(.+?)\s*([A-Z]{3})$/.exec(text);
  if (coded) {
    const [before, after] = [coded[1]!, coded[2]!];
    [code, text] = /^[A-Z]{3}$/.test(before) ? [before, after] : [after, before];
  }
  const signs = [...new Set(text.match(SIGNS) ?? [])];
  if (signs.length > 1) throw new ValueError(`${field} "${raw}" carries two currency signs`);
  const sign = signs[0];
  if (code !== undefined && sign !== undefined && !SIGN_CURRENCIES[sign]!.includes(code)) {
    throw new ValueError(`${field} "${raw}" carries two currencies (${code} and ${sign})`);
  }
  const value = parseNumber(text.replace(SIGNS, "").replace(/[\s\u00a0]/g, ""), raw, field);
  return { value, currency: code !== undefined ? { code } : sign !== undefined ? { sign } : null };
}

/** A plain number (quantity): as `parseMoney`, a currency around it ignored. */
export const parseAmount = (raw: string, field = "amount") => parseMoney(raw, field).value;

function parseNumber(digits: string, raw: string, field: string): number {
  let text = digits;
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

/**
 * A row's currency: the one its amount was written in, checked against its currency column; else the
 * column; else `default_currency`. An amount and a column that disagree reject the row (neither is
 * dropped silently). A shared sign (`$`, `¥`) takes the column's or the default's code when that is one
 * of its currencies, else its first (USD, JPY).
 */
export function rowCurrency(amount: AmountCurrency, amountText: string, column: string, defaultCurrency: string | undefined): string | null {
  if (amount === null) return column || defaultCurrency || null;
  if ("code" in amount) {
    if (column !== "" && column !== amount.code) throw new ValueError(`amount "${amountText}" is in ${amount.code} but currency says ${column}`);
    return amount.code;
  }
  const candidates = SIGN_CURRENCIES[amount.sign]!;
  if (column !== "") {
    if (!candidates.includes(column)) throw new ValueError(`amount "${amountText}" is in ${amount.sign} (${candidates.join(", ")}) but currency says ${column}`);
    return column;
  }
  return defaultCurrency !== undefined && candidates.includes(defaultCurrency) ? defaultCurrency : candidates[0]!;
}

const TRUE = new Set(["true", "1", "yes", "y", "t", "x", "returned", "return", "refund", "evet"]);
const FALSE = new Set(["false", "0", "no", "n", "f", "", "hayır", "hayir"]);

export function parseFlag(raw: string, field: string): boolean {
  const text = raw.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ValueError(`${field} "${raw}" is not a yes/no value`);
}

/**
 * Money as an integer of hundredths of the currency's unit, rounded half away from zero: a fixed point
 * ×100 for every currency, not ISO minor units (¥100 is stored as 10000, as 1.00 EUR is 100).
 */
export const toCents = (amount: number) => Math.sign(amount) * Math.round(Math.abs(amount) * 100);
