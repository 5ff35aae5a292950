import type { ColumnMapping, ResolvedColumns } from "./columns";
import { hasInvalidUtf8 } from "./utf8";
import { isInFuture, parseAmount, parseDate, parseFlag, parseMoney, rowCurrency, toCents, ValueError, type AmountCurrency } from "./values";

/** An accepted row, ready to store. */
export type TransactionRow = {
  rowNumber: number;
  customerId: string;
  orderId: string | null;
  orderedAt: number;
  orderDay: string;
  amountCents: number;
  currency: string | null;
  quantity: number | null;
  isReturn: boolean;
  extra: Record<string, ExtraValue> | null;
};

export type ExtraValue = string | number | Record<string, unknown> | unknown[];

export type RowRejection = { row: number; reason: string };

const MAX_ID_LENGTH = 200;

/** C0 and C1 control characters (NUL included): never part of an id or a column name. */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

const cell = (record: readonly string[], index: number) => (index === -1 ? "" : (record[index] ?? "").trim());

/**
 * Validates one data row. `rowNumber` counts data rows from 1 (the header is row 0), as a person sees
 * them in a spreadsheet below the header. Returns the row or the reason it was refused.
 */
export function readRow(
  record: readonly string[],
  rowNumber: number,
  columns: ResolvedColumns,
  mapping: ColumnMapping,
  headerLength: number,
  now = Date.now(),
): TransactionRow | RowRejection {
  try {
    if (record.length > headerLength && record.slice(headerLength).some((v) => v.trim() !== "")) {
      throw new ValueError(`${record.length} fields, but the header has ${headerLength}`);
    }
    const invalid = record.findIndex(hasInvalidUtf8);
    if (invalid !== -1) throw new ValueError(`column ${invalid + 1} holds bytes that are not valid UTF-8`);
    if (record.some((value) => value.includes("\u0000"))) throw new ValueError("the row holds a NUL character");
    const customerId = cell(record, columns.customer_id);
    if (customerId === "") throw new ValueError("customer_id is empty");
    if (customerId.length > MAX_ID_LENGTH) throw new ValueError(`customer_id is longer than ${MAX_ID_LENGTH} characters`);
    if (CONTROL_CHARACTER.test(customerId)) throw new ValueError("customer_id holds a control character");

    const rawDate = cell(record, columns.order_date);
    if (rawDate === "") throw new ValueError("order_date is empty");
    const date = parseDate(rawDate, mapping.date_format);
    if (isInFuture(date.at, now)) throw new ValueError(`order_date "${rawDate}" is in the future`);

    const quantityText = cell(record, columns.quantity);
    const quantity = quantityText === "" ? null : parseAmount(quantityText, "quantity");

    let amount: number;
    let amountCurrency: AmountCurrency;
    let amountText: string;
    if (columns.amount !== -1 && cell(record, columns.amount) !== "") {
      amountText = cell(record, columns.amount);
      ({ value: amount, currency: amountCurrency } = parseMoney(amountText));
    } else if (columns.unit_price !== -1 && cell(record, columns.unit_price) !== "") {
      amountText = cell(record, columns.unit_price);
      const price = parseMoney(amountText, "unit_price");
      [amount, amountCurrency] = [price.value * (quantity ?? 1), price.currency];
    } else throw new ValueError("amount is empty");

    const returnedText = cell(record, columns.returned);
    // A negative amount (or quantity) is a return; so is a row flagged as one. Zero is a free order.
    const isReturn = (returnedText !== "" && parseFlag(returnedText, "returned")) || amount < 0 || (quantity !== null && quantity < 0);

    const currencyText = cell(record, columns.currency).toUpperCase();
    if (currencyText !== "" && !/^[A-Z]{3}$/.test(currencyText)) throw new ValueError(`currency "${currencyText}" is not an ISO 4217 code`);
    const currency = rowCurrency(amountCurrency, amountText, currencyText, mapping.default_currency);

    const orderId = cell(record, columns.order_id);
    if (orderId.length > MAX_ID_LENGTH) throw new ValueError(`order_id is longer than ${MAX_ID_LENGTH} characters`);
    if (CONTROL_CHARACTER.test(orderId)) throw new ValueError("order_id holds a control character");
    let extra: Record<string, ExtraValue> | null = null;
    for (const { index, name } of columns.extra) {
      const value = cell(record, index);
      if (value === "") continue;
      extra ??= {};
      extra[name] = extraValue(value);
    }
    return {
      rowNumber,
      customerId,
      orderId: orderId === "" ? null : orderId,
      orderedAt: date.at,
      orderDay: date.day,
      amountCents: Math.abs(toCents(amount)),
      currency,
      quantity: quantity === null ? null : Math.abs(quantity),
      isReturn,
      extra,
    };
  } catch (error) {
    if (error instanceof ValueError) return { row: rowNumber, reason: error.message };
    throw error;
  }
}

/**
 * Numbers stay numbers, so the engine can use them as features; a JSON object or array (an API
 * record's nested value, which its CSV cell holds as JSON text) stays JSON rather than a string of it.
 */
function extraValue(text: string): ExtraValue {
  if (/^-?\d+(\.\d+)?$/.test(text) && text.length < 16) return Number(text);
  if (/^[[{]/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null) return parsed as ExtraValue;
    } catch {
      // Not JSON: kept as the text it is.
    }
  }
  return text;
}

export const isRejection = (row: TransactionRow | RowRejection): row is RowRejection => "reason" in row;
