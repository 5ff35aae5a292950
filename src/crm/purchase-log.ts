import { limitError, MAX_DIMENSION_VALUES } from "./limits";

/**
 * A project's purchases (returns excluded) as columns, one entry per transaction line, the lines of
 * each customer contiguous and in day order (the analyses rely on both). CRM analytics read it
 * instead of SQL: cohorts, lifecycles and distinct counts per period over a million lines take
 * milliseconds here and seconds in SQLite.
 */
export type PurchaseLog = {
  /** projects.purchases_version the log was read at */
  version: number;
  /** lines of customer c are [customerStart[c], customerStart[c + 1]) */
  customerStart: Int32Array;
  day: Int32Array;
  amountCents: Float64Array;
  /** an order number unique in the project; lines sharing an order_id share it */
  order: Int32Array;
  /** 1 when the line's order has other lines (only those need de-duplicating when counting orders) */
  sharedOrder: Uint8Array;
  /** the transactions rowid, to line up dimension columns read later */
  rowid: Float64Array;
  firstDay: number;
  lastDay: number;
  /** extra_features values by key, read when first asked for */
  dimensions: Map<string, Dimension>;
};

/** Dictionary-coded values of one extra_features key: code 0 is NULL (absent). */
export type Dimension = { codes: Int32Array; values: Array<string | number | null> };

export const lineCount = (log: PurchaseLog) => log.day.length;
export const customerCount = (log: PurchaseLog) => log.customerStart.length - 1;

/** One line as read from D1: [customer_id, rowid, day number, amount_cents, order_id]. */
export type LineRow = [string, number, number, number, string | null];

/** Appends lines customer by customer and closes each customer's orders as the customer changes. */
export class PurchaseLogBuilder {
  private size = 0;
  private customers: number[] = [0];
  private currentCustomer: string | null = null;
  private day: Int32Array;
  private amountCents: Float64Array;
  private order: Int32Array;
  private sharedOrder: Uint8Array;
  private rowid: Float64Array;
  private orders = 0;
  /** order_id → the line that opened the order, for the current customer (ids repeat across customers) */
  private customerOrders = new Map<string, number>();
  private firstDay = Number.POSITIVE_INFINITY;
  private lastDay = Number.NEGATIVE_INFINITY;

  /**
   * `capacity`: the lines expected; sized exactly, the columns are never copied (a million lines is
   * ~25 MB). More than `maxLines` is refused.
   */
  constructor(
    capacity = 1024,
    private readonly maxLines = Number.POSITIVE_INFINITY,
  ) {
    const n = Math.max(1, capacity);
    this.day = new Int32Array(n);
    this.amountCents = new Float64Array(n);
    this.order = new Int32Array(n);
    this.sharedOrder = new Uint8Array(n);
    this.rowid = new Float64Array(n);
  }

  append(rows: readonly LineRow[]) {
    for (const [customerId, rowid, day, amountCents, orderId] of rows) {
      if (customerId !== this.currentCustomer) {
        if (this.currentCustomer !== null) this.customers.push(this.size);
        this.currentCustomer = customerId;
        this.customerOrders.clear();
      }
      if (this.size === this.day.length) {
        if (this.size >= this.maxLines) throw limitError("crm-limit:lines", `the project has more than ${this.maxLines} purchase lines`);
        this.grow();
      }
      const i = this.size++;
      this.day[i] = day;
      this.amountCents[i] = amountCents;
      this.rowid[i] = rowid;
      if (day < this.firstDay) this.firstDay = day;
      if (day > this.lastDay) this.lastDay = day;
      const known = orderId === null ? undefined : this.customerOrders.get(orderId);
      if (known === undefined) {
        this.order[i] = this.orders++;
        if (orderId !== null) this.customerOrders.set(orderId, i);
      } else {
        // `known` is the order's first line.
        this.order[i] = this.order[known]!;
        this.sharedOrder[i] = 1;
        this.sharedOrder[known] = 1;
      }
    }
  }

  build(version: number): PurchaseLog {
    const customerStart = new Int32Array(this.size > 0 ? this.customers.length + 1 : 1);
    if (this.size > 0) {
      customerStart.set(this.customers);
      customerStart[this.customers.length] = this.size;
    }
    const empty = this.size === 0;
    return {
      version,
      customerStart,
      day: this.day.subarray(0, this.size),
      amountCents: this.amountCents.subarray(0, this.size),
      order: this.order.subarray(0, this.size),
      sharedOrder: this.sharedOrder.subarray(0, this.size),
      rowid: this.rowid.subarray(0, this.size),
      firstDay: empty ? 0 : this.firstDay,
      lastDay: empty ? -1 : this.lastDay,
      dimensions: new Map(),
    };
  }

  private grow() {
    // Only lines that arrived after the count land here: grow by a quarter, not double.
    const capacity = Math.min(this.maxLines, Math.ceil(this.day.length * 1.25) + 1024);
    const grown = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T) => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.day = grown(this.day, (n) => new Int32Array(n));
    this.amountCents = grown(this.amountCents, (n) => new Float64Array(n));
    this.order = grown(this.order, (n) => new Int32Array(n));
    this.sharedOrder = grown(this.sharedOrder, (n) => new Uint8Array(n));
    this.rowid = grown(this.rowid, (n) => new Float64Array(n));
  }
}

/** Builds a dimension column from values read in the log's line order. */
export class DimensionBuilder {
  private readonly codes: Int32Array;
  private readonly values: Array<string | number | null> = [null];
  private readonly index = new Map<string | number, number>();
  private size = 0;

  constructor(private readonly log: PurchaseLog) {
    this.codes = new Int32Array(lineCount(log));
  }

  /** False when a row is not the line expected next (the data changed since the log was read). */
  append(rows: ReadonlyArray<[string, number, unknown]>): boolean {
    for (const [, rowid, raw] of rows) {
      if (this.size >= this.codes.length || this.log.rowid[this.size] !== rowid) return false;
      const value = raw === null || raw === undefined ? null : typeof raw === "number" ? raw : String(raw);
      let code = 0;
      if (value !== null) {
        code = this.index.get(value) ?? 0;
        if (code === 0) {
          if (this.values.length > MAX_DIMENSION_VALUES) {
            throw limitError("crm-limit:answer", `the key has more than ${MAX_DIMENSION_VALUES} distinct values; group by a key with fewer`);
          }
          code = this.values.push(value) - 1;
          this.index.set(value, code);
        }
      }
      this.codes[this.size++] = code;
    }
    return true;
  }

  build(): Dimension | null {
    return this.size === this.codes.length ? { codes: this.codes, values: this.values } : null;
  }
}
