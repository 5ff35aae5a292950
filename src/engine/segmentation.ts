import { abcCategories, type AbcCategory } from "./abc";
import { chooseK, type KSelection } from "./auto-k";
import { expectedPurchases, fitBgNbd, groupBgNbdData, probabilityAlive, type BgNbdParams } from "./bgnbd";
import { kmeans } from "./kmeans";
import { labelClusters, matchToPrevious, segmentPrototypes, type RfmPosition } from "./labels";
import { columnStats } from "./matrix";
import { clusteringFeatures, computeRfm, percentileRank, type CustomerAggregate } from "./rfm";
import { bgnbdTimeline, epochDay, WEEK_DAYS } from "./timeline";

/** churn_risk from churn_score: low below 0.3, medium below 0.7, high from 0.7. */
export const CHURN_RISK_THRESHOLDS = { medium: 0.3, high: 0.7 } as const;
export type ChurnRisk = "low" | "medium" | "high";
export const churnRisk = (score: number): ChurnRisk =>
  score >= CHURN_RISK_THRESHOLDS.high ? "high" : score >= CHURN_RISK_THRESHOLDS.medium ? "medium" : "low";

/** Horizon of `expected_purchases_90d`, in weeks. */
const EXPECTED_PURCHASES_WEEKS = 90 / WEEK_DAYS;
/** Numeric extra features that join the embedding, at most (by name, so the choice is stable). */
const MAX_EXTRA_DIMENSIONS = 8;

export type PreviousCluster = { id: string; label: string; position: RfmPosition };

export type ClusterSummary = {
  /** the previous run's segment id when the cluster matched one; null for a new segment */
  segmentId: string | null;
  label: string;
  description: string;
  size: number;
  centroid: { recency_days: number; frequency: number; monetary: number; return_rate: number };
  position: RfmPosition;
};

export type CustomerProfile = {
  recencyDays: number;
  churnScore: number | null;
  churnRisk: ChurnRisk | null;
  expectedPurchases90d: number | null;
  abcCategory: AbcCategory;
  cluster: number;
  embedding: number[];
};

export type ChurnModel = BgNbdParams & { log_likelihood: number; time_unit: "week"; customers: number; converged: boolean };

export type SegmentationResult = {
  state: "ok" | "empty" | "single_customer";
  referenceDate: string | null;
  kSelection: KSelection | null;
  clusters: ClusterSummary[];
  profiles: CustomerProfile[];
  churnModel: ChurnModel | null;
  /** why churn scores are absent, when they are */
  churnNote: string | null;
  embeddingFeatures: string[];
};

/**
 * The whole model run over a project's customer aggregates, without I/O: RFM, K-Means with automatic k
 * and stable labels, BG/NBD churn, ABC and embeddings. Deterministic for a seed.
 */
export function segmentCustomers(
  customers: readonly CustomerAggregate[],
  { referenceAt, previous = [], seed = 42 }: { referenceAt?: number; previous?: readonly PreviousCluster[]; seed?: number } = {},
): SegmentationResult {
  const n = customers.length;
  if (n === 0) {
    return { state: "empty", referenceDate: null, kSelection: null, clusters: [], profiles: [], churnModel: null, churnNote: "no customers yet", embeddingFeatures: [] };
  }
  // The reference date defaults to the latest transaction in the data, so historical data sets make sense.
  const reference = referenceAt ?? Math.max(...customers.map((c) => c.lastTransactionAt));
  const rfm = computeRfm(customers, reference);
  const { points } = clusteringFeatures(rfm);

  const kSelection = n >= 3 ? chooseK(points, { seed }) : null;
  const k = kSelection?.k ?? 1;
  const fit = kmeans(points, k, { seed, restarts: 4 });

  // Cluster centres in the units people read, and their percentile positions for naming.
  const sortedRecency = Float64Array.from(rfm.recencyDays).sort();
  const sortedFrequency = Float64Array.from(rfm.frequency).sort();
  const sortedMonetary = Float64Array.from(rfm.monetary).sort();
  const sums = Array.from({ length: fit.k }, () => ({ size: 0, recency: 0, frequency: 0, monetary: 0, returnRate: 0 }));
  for (let i = 0; i < n; i++) {
    const s = sums[fit.labels[i]!]!;
    s.size++;
    s.recency += rfm.recencyDays[i]!;
    s.frequency += rfm.frequency[i]!;
    s.monetary += rfm.monetary[i]!;
    s.returnRate += rfm.returnRate[i]!;
  }
  const centroids = sums.map((s) => {
    const size = Math.max(1, s.size);
    return { recency_days: s.recency / size, frequency: s.frequency / size, monetary: s.monetary / size, return_rate: s.returnRate / size };
  });
  const positions: RfmPosition[] = centroids.map((c) => ({
    r: 1 - percentileRank(sortedRecency, c.recency_days),
    f: percentileRank(sortedFrequency, c.frequency),
    m: percentileRank(sortedMonetary, c.monetary),
  }));
  const matched = matchToPrevious(positions, previous);
  const previousLabel = new Map(previous.map((p) => [p.id, p.label]));
  const keptLabels = new Set([...matched.values()].map((id) => previousLabel.get(id)!));
  const freshIndexes = positions.map((_, i) => i).filter((i) => !matched.has(i));
  const freshLabels = labelClusters(freshIndexes.map((i) => positions[i]!), keptLabels);
  const labels = positions.map((_, i) => (matched.has(i) ? previousLabel.get(matched.get(i)!)! : freshLabels[freshIndexes.indexOf(i)]!));
  const clusters: ClusterSummary[] = positions.map((position, i) => ({
    segmentId: matched.get(i) ?? null,
    label: labels[i]!,
    description: segmentPrototypes.find((p) => p.label === labels[i])?.description ?? "",
    size: sums[i]!.size,
    centroid: roundAll(centroids[i]!),
    position: roundAll(position),
  }));

  // Churn: BG/NBD over (x, t_x, T) in weeks, T from the first purchase to the reference date.
  const referenceDay = epochDay(reference);
  const timelines = customers.map((c) =>
    c.firstPurchaseAt === null || c.lastPurchaseAt === null
      ? null
      : bgnbdTimeline(epochDay(c.firstPurchaseAt), epochDay(c.lastPurchaseAt), c.purchaseDays, referenceDay),
  );
  const usable = timelines.filter((t): t is NonNullable<typeof t> => t !== null);
  const bgnbd = fitBgNbd(groupBgNbdData(usable.map((t) => t.x), usable.map((t) => t.tx), usable.map((t) => t.T)));
  const churnModel: ChurnModel | null = bgnbd
    ? { ...roundAll(bgnbd.params, 6), log_likelihood: round(bgnbd.logLikelihood, 4), time_unit: "week", customers: bgnbd.customers, converged: bgnbd.converged }
    : null;
  const churnNote = bgnbd
    ? null
    : usable.length < 10
      ? "too few customers to fit the churn model (at least 10 needed)"
      : "no customer has a repeat purchase yet, so the churn model cannot be fitted";

  const abc = abcCategories(rfm.monetary);
  const churnScores = timelines.map((t) => (bgnbd && t ? 1 - probabilityAlive(bgnbd.params, t.x, t.tx, t.T) : null));

  // Embedding: the clustering features, the churn score and numeric extra features, each standardized.
  const extraKeys = numericExtraKeys(customers);
  const embeddingFeatures = ["log_recency_days", "log_frequency", "log_monetary", "return_rate", ...(bgnbd ? ["churn_score"] : []), ...extraKeys.map((k) => `extra_features.${k}`)];
  const extras = standardizedExtras(customers, extraKeys, bgnbd ? churnScores : null);

  const profiles: CustomerProfile[] = customers.map((_, i) => {
    const score = churnScores[i]!;
    const t = timelines[i];
    const embedding: number[] = [];
    for (let j = 0; j < points.d; j++) embedding.push(round(points.data[i * points.d + j]!, 4));
    for (const value of extras[i]!) embedding.push(round(value, 4));
    return {
      recencyDays: rfm.recencyDays[i]!,
      churnScore: score === null ? null : round(score, 6),
      churnRisk: score === null ? null : churnRisk(score),
      expectedPurchases90d: bgnbd && t ? round(expectedPurchases(bgnbd.params, EXPECTED_PURCHASES_WEEKS, t.x, t.tx, t.T), 4) : null,
      abcCategory: abc[i]!,
      cluster: fit.labels[i]!,
      embedding,
    };
  });

  return {
    state: n === 1 ? "single_customer" : "ok",
    referenceDate: new Date(reference).toISOString(),
    kSelection,
    clusters,
    profiles,
    churnModel,
    churnNote,
    embeddingFeatures,
  };
}

/** Extra-feature keys whose values are numbers for at least half the customers. */
function numericExtraKeys(customers: readonly CustomerAggregate[]): string[] {
  const counts = new Map<string, number>();
  for (const c of customers) {
    for (const [key, value] of Object.entries(c.extraFeatures ?? {})) if (typeof value === "number" && Number.isFinite(value)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .filter(([, count]) => count >= customers.length / 2)
    .map(([key]) => key)
    .sort()
    .slice(0, MAX_EXTRA_DIMENSIONS);
}

/** Per customer: [churn score?, ...extras], z-scored per column; a missing value becomes the mean (0). */
function standardizedExtras(customers: readonly CustomerAggregate[], keys: string[], churnScores: Array<number | null> | null): number[][] {
  const columns = (churnScores ? 1 : 0) + keys.length;
  const n = customers.length;
  const values = new Float64Array(n * columns);
  const present = new Uint8Array(n * columns);
  customers.forEach((c, i) => {
    let j = 0;
    if (churnScores) {
      const s = churnScores[i];
      if (s !== null && s !== undefined) [values[i * columns], present[i * columns]] = [s, 1];
      j = 1;
    }
    for (const key of keys) {
      const v = c.extraFeatures?.[key];
      if (typeof v === "number" && Number.isFinite(v)) [values[i * columns + j], present[i * columns + j]] = [v, 1];
      j++;
    }
  });
  const stats = columnStats({ data: values, n, d: columns });
  return customers.map((_, i) => {
    const row: number[] = [];
    for (let j = 0; j < columns; j++) row.push(present[i * columns + j] ? (values[i * columns + j]! - stats.mean[j]!) / stats.sd[j]! : 0);
    return row;
  });
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
function roundAll<T extends Record<string, number>>(values: T, digits = 4): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, digits)])) as T;
}
