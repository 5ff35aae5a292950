import { describe, expect, it } from "vitest";
import { parseAmount, parseDate, parseFlag, parseMoney, rowCurrency, toCents, ValueError } from "../../src/ingest/values";
import { MappingError, resolveColumns } from "../../src/ingest/columns";

const day = (raw: string, format?: Parameters<typeof parseDate>[1]) => parseDate(raw, format).day;

describe("dates", () => {
  it("reads ISO dates and date-times, YYYYMMDD and DD.MM.YYYY", () => {
    expect(day("2025-03-04")).toBe("2025-03-04");
    expect(parseDate("2025-03-04T10:00:00+03:00").at).toBe(Date.UTC(2025, 2, 4, 7));
    expect(parseDate("2025-03-04 10:00").at).toBe(Date.UTC(2025, 2, 4, 10));
    expect(day("19970101")).toBe("1997-01-01");
    expect(day("4.3.2025")).toBe("2025-03-04");
  });

  it("reads slash dates only when day and month cannot be swapped, unless a format is given", () => {
    expect(day("12/31/2025")).toBe("2025-12-31");
    expect(day("31/12/2025")).toBe("2025-12-31");
    expect(day("05/05/2025")).toBe("2025-05-05");
    expect(() => parseDate("03/04/2025")).toThrow(/ambiguous/);
    expect(day("03/04/2025", "DD/MM/YYYY")).toBe("2025-04-03");
    expect(day("03/04/2025", "MM/DD/YYYY")).toBe("2025-03-04");
  });

  it("refuses impossible and unsupported dates", () => {
    for (const raw of ["2025-02-30", "20251301", "31.02.2025", "yesterday", "2025/01/01", "1800-01-01", "2025-02-30T10:00:00Z", "0099-01-01T00:00:00Z"]) {
      expect(() => parseDate(raw), raw).toThrow(ValueError);
    }
  });
});

describe("amounts", () => {
  it("reads the usual notations", () => {
    expect(parseAmount("129.90")).toBe(129.9);
    expect(parseAmount("-12")).toBe(-12);
    expect(parseAmount("1,234.56")).toBe(1234.56);
    expect(parseAmount("1.234,56")).toBe(1234.56);
    expect(parseAmount("12,5")).toBe(12.5);
    expect(parseAmount("$ 10.00")).toBe(10);
    expect(parseAmount("EUR 7")).toBe(7);
    expect(parseAmount("(5.00)")).toBe(-5);
    expect(parseAmount(".5")).toBe(0.5);
    expect(parseAmount("0")).toBe(0);
  });

  it("refuses ambiguous and non-numeric text", () => {
    for (const raw of ["1,234", "ten", "1e3", "", "12.3.4", "NaN", "Infinity"]) expect(() => parseAmount(raw), raw).toThrow(ValueError);
  });

  it("returns the currency an amount is written in, and refuses two", () => {
    expect(parseMoney("USD 7.50")).toEqual({ value: 7.5, currency: { code: "USD" } });
    expect(parseMoney("5 TRY")).toEqual({ value: 5, currency: { code: "TRY" } });
    expect(parseMoney("€3")).toEqual({ value: 3, currency: { sign: "€" } });
    expect(parseMoney("-1.234,56 ₺")).toEqual({ value: -1234.56, currency: { sign: "₺" } });
    expect(parseMoney("USD $5")).toEqual({ value: 5, currency: { code: "USD" } });
    expect(parseMoney("12")).toEqual({ value: 12, currency: null });
    for (const raw of ["€3 £", "EUR $5", "EUR"]) expect(() => parseMoney(raw), raw).toThrow(ValueError);
  });

  it("picks a row's currency: the amount's, checked against the column; a shared sign by the column or default", () => {
    expect(rowCurrency({ sign: "¥" }, "¥100", "", undefined)).toBe("JPY");
    expect(rowCurrency({ sign: "¥" }, "¥100", "CNY", undefined)).toBe("CNY");
    expect(rowCurrency({ sign: "$" }, "$1", "", "CAD")).toBe("CAD");
    expect(rowCurrency({ sign: "$" }, "$1", "", "EUR")).toBe("USD");
    expect(rowCurrency({ code: "TRY" }, "5 TRY", "", "EUR")).toBe("TRY");
    expect(rowCurrency(null, "5", "", "EUR")).toBe("EUR");
    expect(rowCurrency(null, "5", "GBP", "EUR")).toBe("GBP");
    expect(() => rowCurrency({ code: "TRY" }, "5 TRY", "EUR", undefined)).toThrow(/TRY but currency says EUR/);
    expect(() => rowCurrency({ sign: "€" }, "€5", "USD", undefined)).toThrow(ValueError);
  });

  it("rounds to cents half away from zero", () => {
    expect(toCents(11.77)).toBe(1177);
    expect(toCents(0.125)).toBe(13);
    expect(toCents(-0.125)).toBe(-13);
  });

  it("reads yes/no flags", () => {
    expect(parseFlag("Yes", "returned")).toBe(true);
    expect(parseFlag("0", "returned")).toBe(false);
    expect(() => parseFlag("maybe", "returned")).toThrow(/yes\/no/);
  });
});

describe("column mapping", () => {
  it("recognises aliases and keeps the rest as extra features", () => {
    const columns = resolveColumns(["InvoiceNo", "Customer ID", "InvoiceDate", "Total", "Country"]);
    expect(columns).toMatchObject({ order_id: 0, customer_id: 1, order_date: 2, amount: 3, currency: -1 });
    expect(columns.extra).toEqual([{ index: 4, name: "Country" }]);
  });

  it("prefers the explicit mapping and names what it could not find", () => {
    expect(resolveColumns(["k", "d", "v"], { columns: { customer_id: "k", order_date: "d", amount: "v" } })).toMatchObject({ customer_id: 0, order_date: 1, amount: 2 });
    expect(() => resolveColumns(["k", "d"], { columns: { customer_id: "nope" } })).toThrow(MappingError);
    expect(() => resolveColumns(["name", "when"])).toThrow(/customer_id, order_date, amount.*"name", "when"/);
  });
});
