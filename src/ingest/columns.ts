import { z } from "@hono/zod-openapi";

/** The fields a transaction row maps to; everything else goes into `extra_features`. */
export const transactionFields = ["customer_id", "order_date", "amount", "order_id", "currency", "quantity", "unit_price", "returned"] as const;
export type TransactionField = (typeof transactionFields)[number];

/** Header spellings recognised per field, compared after lower-casing and dropping non-alphanumerics. */
const aliases: Record<TransactionField, string[]> = {
  customer_id: ["customerid", "customer", "customerno", "customernumber", "custid", "clientid", "client", "userid", "buyerid", "memberid", "accountid", "customercode"],
  order_date: ["orderdate", "date", "invoicedate", "transactiondate", "purchasedate", "orderedat", "createdat", "timestamp", "datetime", "saledate", "txdate"],
  amount: ["amount", "total", "revenue", "sales", "value", "ordertotal", "totalamount", "amounttotal", "monetary", "price", "dollarvalue", "grandtotal", "netamount", "salesamount"],
  order_id: ["orderid", "invoice", "invoiceno", "invoicenumber", "invoiceid", "transactionid", "ordernumber", "orderno", "receiptid"],
  currency: ["currency", "currencycode", "curr"],
  quantity: ["quantity", "qty", "units", "numberofcds", "count", "items"],
  unit_price: ["unitprice", "priceeach", "itemprice"],
  returned: ["returned", "isreturn", "return", "refund", "refunded", "isrefund"],
};

export const normalizeHeader = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, "");

export const dateFormats = ["YYYY-MM-DD", "YYYYMMDD", "DD.MM.YYYY", "MM/DD/YYYY", "DD/MM/YYYY"] as const;
export type DateFormat = (typeof dateFormats)[number];

/** What an upload may say about its columns; anything left out is recognised from the header. */
export const ColumnMapping = z
  .object({
    columns: z
      .partialRecord(z.enum(transactionFields), z.string().min(1).max(200))
      .optional()
      .openapi({ description: "Header of the column holding each field", example: { customer_id: "Kunde", amount: "Umsatz" } }),
    date_format: z
      .enum(dateFormats)
      .optional()
      .openapi({ description: "Required to read slash dates whose day and month could be swapped (e.g. 03/04/2026)" }),
    default_currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional()
      .openapi({ description: "ISO 4217 code for rows without a currency column" }),
  })
  .strict()
  .openapi("ColumnMapping");
export type ColumnMapping = z.infer<typeof ColumnMapping>;

/** Column indexes of each recognised field in a header row; -1 when absent. */
export type ResolvedColumns = Record<TransactionField, number> & { extra: Array<{ index: number; name: string }> };

export class MappingError extends Error {
  /** the mapping entry at fault (`mapping.columns.<field>`), when it is one */
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/**
 * Resolves which column holds which field: the explicit mapping first, then the aliases. Fails when a
 * required field cannot be found, naming the headers it saw.
 */
export function resolveColumns(header: readonly string[], mapping: ColumnMapping = {}): ResolvedColumns {
  const normalized = header.map(normalizeHeader);
  const taken = new Set<number>();
  const resolved = {} as ResolvedColumns;
  for (const field of transactionFields) {
    const explicit = mapping.columns?.[field];
    let index = -1;
    if (explicit !== undefined) {
      index = header.indexOf(explicit);
      if (index === -1) index = normalized.indexOf(normalizeHeader(explicit));
      if (index === -1) throw new MappingError(`mapping names column "${explicit}" for ${field}, but the file has no such column`, `mapping.columns.${field}`);
    } else {
      index = normalized.findIndex((name, i) => !taken.has(i) && (name === normalizeHeader(field) || aliases[field].includes(name)));
    }
    if (index !== -1) taken.add(index);
    resolved[field] = index;
  }
  const missing: string[] = [];
  if (resolved.customer_id === -1) missing.push("customer_id");
  if (resolved.order_date === -1) missing.push("order_date");
  if (resolved.amount === -1 && resolved.unit_price === -1) missing.push("amount");
  if (missing.length > 0) {
    throw new MappingError(
      `no recognisable ${missing.join(", ")} column (columns found: ${header.slice(0, 30).map((h) => JSON.stringify(h)).join(", ") || "none"}); pass a mapping`,
    );
  }
  resolved.extra = header.flatMap((name, index) => (taken.has(index) || name.trim() === "" ? [] : [{ index, name: name.trim() }]));
  return resolved;
}
