import { columnStats, matrix, standardize, type Matrix } from "./matrix";

const DAY_MS = 86_400_000;

/** The per-customer aggregates the engine starts from (money in cents, times in UTC ms). */
export type CustomerAggregate = {
  customerId: string;
  firstPurchaseAt: number | null;
  lastPurchaseAt: number | null;
  lastTransactionAt: number;
  frequency: number;
  purchaseDays: number;
  monetaryCents: number;
  returnRate: number;
  extraFeatures: Record<string, unknown> | null;
};

export type Rfm = {
  recencyDays: Float64Array;
  frequency: Float64Array;
  /** in currency units (not cents) */
  monetary: Float64Array;
  returnRate: Float64Array;
};

/**
 * Whole days from a customer's last purchase (or last transaction, for a customer with only returns)
 * to the reference time.
 */
export const recencyDays = (lastActivityAt: number, referenceAt: number) => Math.max(0, Math.floor((referenceAt - lastActivityAt) / DAY_MS));

export const RFM_FEATURES = ["log_recency_days", "log_frequency", "log_monetary", "return_rate"] as const;

/**
 * The matrix K-Means runs on: log-scaled RFM (the raw values are heavily skewed) and the return rate,
 * each standardized. The column statistics are returned so centres can be mapped back.
 */
export function clusteringFeatures(rfm: Rfm): { points: Matrix; stats: ReturnType<typeof columnStats> } {
  const n = rfm.recencyDays.length;
  const points = matrix(n, RFM_FEATURES.length);
  for (let i = 0; i < n; i++) rawFeatures(rfm.recencyDays[i]!, rfm.frequency[i]!, rfm.monetary[i]!, rfm.returnRate[i]!, points.data, i * 4);
  const stats = columnStats(points);
  return { points: standardize(points, stats), stats };
}

/** Fraction of values strictly below v, in a sorted array: a percentile rank in [0, 1]. */
export function percentileRank(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  let upper = lo;
  while (upper < sorted.length && sorted[upper] === v) upper++;
  // Ties count half, so a constant column ranks every value at 0.5.
  return sorted.length === 0 ? 0.5 : (lo + (upper - lo) / 2) / sorted.length;
}

/** One customer's clustering features before standardization, written to out[offset..offset + 4). */
export function rawFeatures(recencyDays: number, frequency: number, monetary: number, returnRate: number, out: Float64Array, offset = 0) {
  out[offset] = Math.log1p(recencyDays);
  out[offset + 1] = Math.log1p(frequency);
  out[offset + 2] = Math.log1p(Math.max(0, monetary));
  out[offset + 3] = returnRate;
}
