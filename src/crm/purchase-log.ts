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
  /** the line's file (files.rowid), so a file's removal finds the customers it touched */
  file: Int32Array;
  /** customer c's customer_id, in the lines' order (SQLite's BINARY order, as the index has them) */
  customerIds: string[];
  /** what was read of each file (by files.rowid): the next refresh reads only past `hwm` */
  files: Map<number, FileMark>;
  /** the next order number free (a rebuilt customer's orders take new ones) */
  nextOrder: number;
  firstDay: number;
  lastDay: number;
  /** extra_features values by key, read when first asked for */
  dimensions: Map<string, Dimension>;
};

/** Dictionary-coded values of one extra_features key: code 0 is NULL (absent). */
export type Dimension = { codes: Int32Array; values: Array<string | number | null> };

/**
 * A file as far as it was read: rows up to row_number `hwm`; `completed` once the file was complete
 * when read (its rows never change after that, they only leave with the file).
 */
export type FileMark = { hwm: number; completed: boolean };

export const lineCount = (log: PurchaseLog) => log.day.length;
export const customerCount = (log: PurchaseLog) => log.customerStart.length - 1;

/**
 * One line as read from D1: [customer_id, rowid, day number, amount_cents, order_id, files.rowid,
 * ...the values of the dimensions being built].
 */
export type LineRow = [string, number, number, number, string | null, number, ...unknown[]];

/**
 * SQLite's order of TEXT (BINARY: UTF-8 bytes, i.e. code points); JavaScript's `<` compares UTF-16
 * units, which differs for characters past U+FFFF against U+E000..U+FFFF.
 */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Codes the values of one key, extending a dimension's dictionary (code 0 is NULL). */
export class DimensionCoder {
  private readonly index = new Map<string | number, number>();

  constructor(readonly values: Array<string | number | null> = [null]) {
    values.forEach((v, code) => v !== null && this.index.set(v, code));
  }

  code(raw: unknown): number {
    if (raw === null || raw === undefined) return 0;
    const value = typeof raw === "number" ? raw : String(raw);
    let code = this.index.get(value);
    if (code === undefined) {
      if (this.values.length > MAX_DIMENSION_VALUES) {
        throw limitError("crm-limit:answer", `the key has more than ${MAX_DIMENSION_VALUES} distinct values; group by a key with fewer`);
      }
      code = this.values.push(value) - 1;
      this.index.set(value, code);
    }
    return code;
  }
}

/** Appends lines customer by customer and closes each customer's orders as the customer changes. */
export class PurchaseLogBuilder {
  private size = 0;
  private customers: number[] = [0];
  private readonly customerIds: string[] = [];
  private currentCustomer: string | null = null;
  private day: Int32Array;
  private amountCents: Float64Array;
  private order: Int32Array;
  private sharedOrder: Uint8Array;
  private rowid: Float64Array;
  private file: Int32Array;
  private codes: Int32Array[];
  /** order_id → the line that opened the order, for the current customer (ids repeat across customers) */
  private customerOrders = new Map<string, number>();
  private firstDay = Number.POSITIVE_INFINITY;
  private lastDay = Number.NEGATIVE_INFINITY;

  /**
   * `capacity`: the lines expected; sized exactly, the columns are never copied (a million lines is
   * ~30 MB). More than `maxLines` is refused. Orders are numbered from `orders`; `dimensions` code
   * the values that follow a line's six fixed columns, in their order.
   */
  constructor(
    capacity = 1024,
    private readonly maxLines = Number.POSITIVE_INFINITY,
    private orders = 0,
    private readonly dimensions: Array<[string, DimensionCoder]> = [],
  ) {
    const n = Math.max(1, capacity);
    this.day = new Int32Array(n);
    this.amountCents = new Float64Array(n);
    this.order = new Int32Array(n);
    this.sharedOrder = new Uint8Array(n);
    this.rowid = new Float64Array(n);
    this.file = new Int32Array(n);
    this.codes = dimensions.map(() => new Int32Array(n));
  }

  append(rows: readonly LineRow[]) {
    for (const row of rows) {
      const [customerId, rowid, day, amountCents, orderId, file] = row;
      if (customerId !== this.currentCustomer) {
        if (this.currentCustomer !== null) this.customers.push(this.size);
        this.currentCustomer = customerId;
        this.customerIds.push(customerId);
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
      this.file[i] = file;
      for (let d = 0; d < this.dimensions.length; d++) this.codes[d]![i] = this.dimensions[d]![1].code(row[6 + d]);
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

  build(version: number, files = new Map<number, FileMark>()): PurchaseLog {
    const customerStart = new Int32Array(this.size > 0 ? this.customers.length + 1 : 1);
    if (this.size > 0) {
      customerStart.set(this.customers);
      customerStart[this.customers.length] = this.size;
    }
    const empty = this.size === 0;
    // A line of a file the snapshot did not know yet: the next refresh reads all of that file.
    for (let i = 0; i < this.size; i++) if (!files.has(this.file[i]!)) files.set(this.file[i]!, { hwm: 0, completed: false });
    return {
      version,
      customerStart,
      customerIds: this.customerIds,
      day: this.day.subarray(0, this.size),
      amountCents: this.amountCents.subarray(0, this.size),
      order: this.order.subarray(0, this.size),
      sharedOrder: this.sharedOrder.subarray(0, this.size),
      rowid: this.rowid.subarray(0, this.size),
      file: this.file.subarray(0, this.size),
      files,
      nextOrder: this.orders,
      firstDay: empty ? 0 : this.firstDay,
      lastDay: empty ? -1 : this.lastDay,
      dimensions: new Map(this.dimensions.map(([key, coder], d) => [key, { codes: this.codes[d]!.subarray(0, this.size), values: coder.values }])),
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
    this.file = grown(this.file, (n) => new Int32Array(n));
    this.codes = this.codes.map((c) => grown(c, (n) => new Int32Array(n)));
  }
}

/** Builds a dimension column from values read in the log's line order. */
export class DimensionBuilder {
  private readonly codes: Int32Array;
  private readonly coder = new DimensionCoder();
  private size = 0;

  constructor(private readonly log: PurchaseLog) {
    this.codes = new Int32Array(lineCount(log));
  }

  /** False when a row is not the line expected next (the data changed since the log was read). */
  append(rows: ReadonlyArray<[string, number, unknown]>): boolean {
    for (const [, rowid, raw] of rows) {
      if (this.size >= this.codes.length || this.log.rowid[this.size] !== rowid) return false;
      this.codes[this.size++] = this.coder.code(raw);
    }
    return true;
  }

  build(): Dimension | null {
    return this.size === this.codes.length ? { codes: this.codes, values: this.coder.values } : null;
  }
}

/**
 * The log with some customers replaced: `fresh` holds the changed customers' lines as they are now
 * (read whole, in line order, numbered from log.nextOrder, its dimensions coded with the log's
 * dictionaries), `dropped` flags the log's customers whose lines go (changed or gone). Customers stay
 * in customer_id order, so the log keeps the index's line order and a dimension read later lines up.
 * Each column is copied on its own, so at most one column is held twice.
 */
export function mergeCustomers(log: PurchaseLog, fresh: PurchaseLog, dropped: Uint8Array, version: number): PurchaseLog {
  // Runs of lines in output order: [source (0 log, 1 fresh), start, end].
  const runs: Array<[number, number, number]> = [];
  const customerIds: string[] = [];
  const starts: number[] = [0];
  let lines = 0;
  const take = (source: number, from: PurchaseLog, c: number) => {
    const start = from.customerStart[c]!;
    const end = from.customerStart[c + 1]!;
    const last = runs[runs.length - 1];
    if (last && last[0] === source && last[2] === start) last[2] = end;
    else runs.push([source, start, end]);
    customerIds.push(from.customerIds[c]!);
    lines += end - start;
    starts.push(lines);
  };
  const oldCount = customerCount(log);
  const freshCount = customerCount(fresh);
  for (let a = 0, b = 0; a < oldCount || b < freshCount; ) {
    if (a < oldCount && dropped[a]) a++;
    else if (b >= freshCount || (a < oldCount && compareIds(log.customerIds[a]!, fresh.customerIds[b]!) < 0)) take(0, log, a++);
    else take(1, fresh, b++);
  }
  const sources = [log, fresh];
  function merged<T extends Int32Array | Float64Array | Uint8Array>(column: (l: PurchaseLog) => T, make: (n: number) => T): T {
    const out = make(lines);
    let at = 0;
    for (const [source, start, end] of runs) {
      out.set(column(sources[source]!).subarray(start, end), at);
      at += end - start;
    }
    return out;
  }
  const day = merged((l) => l.day, (n) => new Int32Array(n));
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < day.length; i++) {
    if (day[i]! < firstDay) firstDay = day[i]!;
    if (day[i]! > lastDay) lastDay = day[i]!;
  }
  const dimensions = new Map<string, Dimension>();
  for (const [key, dimension] of log.dimensions) {
    const other = fresh.dimensions.get(key);
    if (other) dimensions.set(key, { codes: merged((l) => (l === log ? dimension : other).codes, (n) => new Int32Array(n)), values: other.values });
  }
  return {
    version,
    customerStart: Int32Array.from(starts),
    customerIds,
    day,
    amountCents: merged((l) => l.amountCents, (n) => new Float64Array(n)),
    order: merged((l) => l.order, (n) => new Int32Array(n)),
    sharedOrder: merged((l) => l.sharedOrder, (n) => new Uint8Array(n)),
    rowid: merged((l) => l.rowid, (n) => new Float64Array(n)),
    file: merged((l) => l.file, (n) => new Int32Array(n)),
    files: fresh.files,
    nextOrder: fresh.nextOrder,
    firstDay: lines === 0 ? 0 : firstDay,
    lastDay: lines === 0 ? -1 : lastDay,
    dimensions,
  };
}
