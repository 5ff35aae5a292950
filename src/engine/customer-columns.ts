import type { CustomerAggregate } from "./rfm";
import { epochDay } from "./timeline";

/** firstPurchaseDay of a customer with no purchase (only returns): no BG/NBD timeline. */
export const NO_PURCHASE = -0x80000000;

/**
 * Running sums of one numeric extra feature over the customers that have it. The sum is added in
 * customer order (as a column mean over all customers would be); the squares are taken about the
 * first value seen, so the variance needs no second pass and loses no precision to cancellation.
 */
export type ExtraFeatureSums = { count: number; sum: number; shift: number; shiftedSum: number; shiftedSquares: number };

/**
 * A project's customers as columns of numbers, in customer order: what a model is fitted on. About
 * 44 bytes a customer (no ids, no JSON), so half a million take 22 MB.
 */
export type CustomerColumns = {
  n: number;
  /** the last purchase, or the last transaction for a customer with only returns (ms) */
  lastActivityAt: Float64Array;
  frequency: Float64Array;
  /** net of returns, in currency units */
  monetary: Float64Array;
  returnRate: Float64Array;
  /** epoch days; NO_PURCHASE when the customer has none */
  firstPurchaseDay: Int32Array;
  lastPurchaseDay: Int32Array;
  purchaseDays: Int32Array;
  /** the latest transaction of any customer: the default reference time */
  latestTransactionAt: number;
  /** per extra-feature key with a finite number for at least one customer */
  extras: Map<string, ExtraFeatureSums>;
};

/** Builds CustomerColumns a row at a time (a page of aggregates after another), growing as needed. */
export class CustomerColumnsBuilder {
  private columns: CustomerColumns;

  constructor(capacity = 1024) {
    this.columns = allocate(Math.max(1, capacity));
  }

  add(c: CustomerAggregate): void {
    let columns = this.columns;
    if (columns.n === columns.frequency.length) columns = this.columns = grow(columns, columns.n * 2);
    const i = columns.n++;
    columns.lastActivityAt[i] = c.lastPurchaseAt ?? c.lastTransactionAt;
    columns.frequency[i] = c.frequency;
    columns.monetary[i] = c.monetaryCents / 100;
    columns.returnRate[i] = c.returnRate;
    const purchased = c.firstPurchaseAt !== null && c.lastPurchaseAt !== null;
    columns.firstPurchaseDay[i] = purchased ? epochDay(c.firstPurchaseAt!) : NO_PURCHASE;
    columns.lastPurchaseDay[i] = purchased ? epochDay(c.lastPurchaseAt!) : NO_PURCHASE;
    columns.purchaseDays[i] = c.purchaseDays;
    columns.latestTransactionAt = Math.max(columns.latestTransactionAt, c.lastTransactionAt);
    for (const [key, value] of Object.entries(c.extraFeatures ?? {})) {
      if (!isFeatureNumber(value)) continue;
      let sums = columns.extras.get(key);
      if (!sums) columns.extras.set(key, (sums = { count: 0, sum: 0, shift: value, shiftedSum: 0, shiftedSquares: 0 }));
      const shifted = value - sums.shift;
      sums.count++;
      sums.sum += value;
      sums.shiftedSum += shifted;
      sums.shiftedSquares += shifted * shifted;
    }
  }

  /** The columns, trimmed to the customers added (views of the same memory, not copies). */
  finish(): CustomerColumns {
    const c = this.columns;
    const n = c.n;
    return {
      ...c,
      lastActivityAt: c.lastActivityAt.subarray(0, n),
      frequency: c.frequency.subarray(0, n),
      monetary: c.monetary.subarray(0, n),
      returnRate: c.returnRate.subarray(0, n),
      firstPurchaseDay: c.firstPurchaseDay.subarray(0, n),
      lastPurchaseDay: c.lastPurchaseDay.subarray(0, n),
      purchaseDays: c.purchaseDays.subarray(0, n),
    };
  }
}

/** The customers of an array, as columns. */
export function customerColumns(customers: readonly CustomerAggregate[]): CustomerColumns {
  const builder = new CustomerColumnsBuilder(customers.length);
  for (const c of customers) builder.add(c);
  return builder.finish();
}

/** An extra feature value that takes part in the model: a finite number. */
export const isFeatureNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function allocate(capacity: number): CustomerColumns {
  return {
    n: 0,
    lastActivityAt: new Float64Array(capacity),
    frequency: new Float64Array(capacity),
    monetary: new Float64Array(capacity),
    returnRate: new Float64Array(capacity),
    firstPurchaseDay: new Int32Array(capacity),
    lastPurchaseDay: new Int32Array(capacity),
    purchaseDays: new Int32Array(capacity),
    latestTransactionAt: -Infinity,
    extras: new Map(),
  };
}

function grow(c: CustomerColumns, capacity: number): CustomerColumns {
  const next = allocate(capacity);
  for (const key of ["lastActivityAt", "frequency", "monetary", "returnRate", "firstPurchaseDay", "lastPurchaseDay", "purchaseDays"] as const) {
    (next[key] as Float64Array | Int32Array).set(c[key]);
  }
  return { ...next, n: c.n, latestTransactionAt: c.latestTransactionAt, extras: c.extras };
}
