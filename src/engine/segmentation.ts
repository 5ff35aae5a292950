import { AbcCategorizer, abcBoundaries, type AbcBoundaries, type AbcCategory } from "./abc";
import { chooseK, type KSelection } from "./auto-k";
import { expectedPurchases, fitBgNbd, groupBgNbdData, probabilityAlive, type BgNbdParams } from "./bgnbd";
import { customerColumns, isFeatureNumber, NO_PURCHASE, type CustomerColumns } from "./customer-columns";
import { kmeans } from "./kmeans";
import { labelClusters, matchToPrevious, segmentPrototypes, type RfmPosition } from "./labels";
import { squaredDistance } from "./matrix";
import { clusteringFeatures, percentileRank, rawFeatures, recencyDays, RFM_FEATURES, type CustomerAggregate } from "./rfm";
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


/** A column's mean and standard deviation, as an embedding dimension is standardized with. */
export type Standardization = { mean: number; sd: number };

/**
 * What a model run learns from all of a project's customers, without any customer's row: enough to
 * profile each customer on its own (`CustomerScorer`), a page at a time. Plain JSON, so a run can
 * store it and resume writing profiles after a crash.
 */
export type SegmentationModel = Omit<SegmentationResult, "profiles"> & {
  referenceAt: number | null;
  /** standardization of the clustering features (RFM_FEATURES order) */
  features: Standardization[];
  /** cluster centres in standardized feature space, one row per cluster */
  centroids: number[][];
  /** the BG/NBD parameters unrounded (churnModel has them rounded for people) */
  churnParams: BgNbdParams | null;
  /** the embedding's dimensions after the clustering features: the churn score, then extra features */
  embedding: { churn: Standardization | null; extras: Array<Standardization & { key: string }> };
  abc: AbcBoundaries;
};

/**
 * Fits the model on a project's customers (columns in customer order): RFM, K-Means with automatic
 * k and stable labels, BG/NBD churn, the ABC boundaries and the embedding's standardization.
 * Deterministic for a seed. Holds about 120 bytes a customer at its peak (the columns, the feature
 * matrix and K-Means' bounds), so 500,000 customers fit a Worker's 128 MB.
 */
export function fitSegmentation(
  columns: CustomerColumns,
  { referenceAt, previous = [], seed = 42 }: { referenceAt?: number; previous?: readonly PreviousCluster[]; seed?: number } = {},
): SegmentationModel {
  const { n } = columns;
  if (n === 0) {
    return {
      state: "empty", referenceDate: null, referenceAt: null, kSelection: null, clusters: [], churnModel: null, churnNote: "no customers yet", embeddingFeatures: [],
      features: [], centroids: [], churnParams: null, embedding: { churn: null, extras: [] }, abc: { a: null, b: null },
    };
  }
  // The reference date defaults to the latest transaction in the data, so historical data sets make sense.
  const reference = referenceAt ?? columns.latestTransactionAt;
  const { kSelection, clusters, features, centroids } = fitClusters(columns, reference, previous, seed);

  // Churn: BG/NBD over (x, t_x, T) in weeks, T from the first purchase to the reference date.
  const referenceDay = epochDay(reference);
  const timelineOf = (i: number) =>
    columns.firstPurchaseDay[i] === NO_PURCHASE ? null : bgnbdTimeline(columns.firstPurchaseDay[i]!, columns.lastPurchaseDay[i]!, columns.purchaseDays[i]!, referenceDay);
  let usable = 0;
  for (let i = 0; i < n; i++) if (columns.firstPurchaseDay[i] !== NO_PURCHASE) usable++;
  const bgnbd = fitBgNbd(groupedTimelines(usable, n, timelineOf));
  const churnModel: ChurnModel | null = bgnbd
    ? { ...roundAll(bgnbd.params, 6), log_likelihood: round(bgnbd.logLikelihood, 4), time_unit: "week", customers: bgnbd.customers, converged: bgnbd.converged }
    : null;
  const churnNote = bgnbd
    ? null
    : usable < 10
      ? "too few customers to fit the churn model (at least 10 needed)"
      : "no customer has a repeat purchase yet, so the churn model cannot be fitted";

  // Embedding: the clustering features, the churn score and numeric extra features, each standardized
  // over all customers (a customer without the value counts as 0).
  const churnStandardization = bgnbd
    ? columnStandardization(n, (i) => {
        const t = timelineOf(i);
        return t ? 1 - probabilityAlive(bgnbd.params, t.x, t.tx, t.T) : 0;
      })
    : null;
  const extras = [...columns.extras.entries()]
    .filter(([, sums]) => sums.count >= n / 2)
    .map(([key]) => key)
    .sort()
    .slice(0, MAX_EXTRA_DIMENSIONS)
    .map((key) => {
      const { count, sum, shift, shiftedSum, shiftedSquares } = columns.extras.get(key)!;
      const mean = sum / n;
      // Σ over those with the value of (v − mean)², from sums about the shift; the others add mean² each.
      const offset = mean - shift;
      const squares = Math.max(0, shiftedSquares - 2 * offset * shiftedSum + count * offset * offset) + (n - count) * mean * mean;
      return { key, mean, sd: usableSd(Math.sqrt(squares / n)) };
    });

  return {
    state: n === 1 ? "single_customer" : "ok",
    referenceDate: new Date(reference).toISOString(),
    referenceAt: reference,
    kSelection,
    clusters,
    churnModel,
    churnNote,
    embeddingFeatures: [...RFM_FEATURES, ...(bgnbd ? ["churn_score"] : []), ...extras.map((e) => `extra_features.${e.key}`)],
    features,
    centroids,
    churnParams: bgnbd?.params ?? null,
    embedding: { churn: churnStandardization, extras },
    abc: abcBoundaries(columns.monetary),
  };
}

/**
 * K-Means with automatic k on the standardized RFM features, and the clusters as people read them:
 * centres in RFM units, percentile positions, labels kept from the previous run. Its own function so
 * that the feature matrix and K-Means' bounds (the largest part of a run's memory) are garbage once
 * it returns, before the churn model allocates its own.
 */
function fitClusters(columns: CustomerColumns, reference: number, previous: readonly PreviousCluster[], seed: number) {
  const { n } = columns;
  const rfm = { recencyDays: new Float64Array(n), frequency: columns.frequency, monetary: columns.monetary, returnRate: columns.returnRate };
  for (let i = 0; i < n; i++) rfm.recencyDays[i] = recencyDays(columns.lastActivityAt[i]!, reference);
  const { points, stats } = clusteringFeatures(rfm);

  const kSelection = n >= 3 ? chooseK(points, { seed }) : null;
  const k = kSelection?.k ?? 1;
  const fit = kmeans(points, k, { seed, restarts: 4 });

  // Cluster centres in the units people read, and their percentile positions for naming.
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
  // One sorted copy at a time: each is as large as a column.
  const ranks = (values: Float64Array, pick: (c: (typeof centroids)[number]) => number) => {
    const sorted = Float64Array.from(values).sort();
    return centroids.map((c) => percentileRank(sorted, pick(c)));
  };
  const recencyRanks = ranks(rfm.recencyDays, (c) => c.recency_days);
  const frequencyRanks = ranks(rfm.frequency, (c) => c.frequency);
  const monetaryRanks = ranks(rfm.monetary, (c) => c.monetary);
  const positions: RfmPosition[] = centroids.map((_, j) => ({ r: 1 - recencyRanks[j]!, f: frequencyRanks[j]!, m: monetaryRanks[j]! }));
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

  return {
    kSelection,
    clusters,
    features: Array.from(stats.mean, (mean, j): Standardization => ({ mean, sd: stats.sd[j]! })),
    centroids: Array.from({ length: fit.k }, (_, j) => Array.from(fit.centroids.data.subarray(j * points.d, (j + 1) * points.d))),
  };
}

/** The usable customers' (x, t_x, T), grouped; the ungrouped columns are garbage once it returns. */
function groupedTimelines(usable: number, n: number, timelineOf: (i: number) => { x: number; tx: number; T: number } | null) {
  const x = new Float64Array(usable);
  const tx = new Float64Array(usable);
  const T = new Float64Array(usable);
  for (let i = 0, u = 0; i < n; i++) {
    const t = timelineOf(i);
    if (t) [x[u], tx[u], T[u++]] = [t.x, t.tx, t.T];
  }
  return groupBgNbdData(x, tx, T);
}

/**
 * Profiles customers one at a time with a fitted model: the same recency, cluster (the nearest
 * centre, as K-Means' final assignment), churn, ABC and embedding the whole run would give. Feed
 * customers in customer order: ABC ties are ranked by it; `progress` lets a resumed run continue.
 */
export class CustomerScorer {
  private readonly abc: AbcCategorizer;
  private readonly centroids: Float64Array;
  private readonly features = new Float64Array(RFM_FEATURES.length);

  constructor(
    private readonly model: SegmentationModel,
    progress?: CustomerScorer["progress"],
  ) {
    this.abc = new AbcCategorizer(model.abc, progress?.abcTies);
    this.centroids = Float64Array.from(model.centroids.flat());
  }

  get progress() {
    return { abcTies: this.abc.progress };
  }

  score(c: CustomerAggregate): CustomerProfile {
    const { model, features } = this;
    const recency = recencyDays(c.lastPurchaseAt ?? c.lastTransactionAt, model.referenceAt!);
    const monetary = c.monetaryCents / 100;
    rawFeatures(recency, c.frequency, monetary, c.returnRate, features);
    for (let j = 0; j < features.length; j++) features[j] = (features[j]! - model.features[j]!.mean) / model.features[j]!.sd;
    const cluster = this.nearestCentroid();

    const t =
      c.firstPurchaseAt === null || c.lastPurchaseAt === null
        ? null
        : bgnbdTimeline(epochDay(c.firstPurchaseAt), epochDay(c.lastPurchaseAt), c.purchaseDays, epochDay(model.referenceAt!));
    const params = model.churnParams;
    const score = params && t ? 1 - probabilityAlive(params, t.x, t.tx, t.T) : null;

    const embedding = Array.from(features, (v) => round(v, 4));
    const { churn, extras } = model.embedding;
    if (churn) embedding.push(round(score === null ? 0 : (score - churn.mean) / churn.sd, 4));
    for (const extra of extras) {
      const v = c.extraFeatures?.[extra.key];
      embedding.push(round(isFeatureNumber(v) ? (v - extra.mean) / extra.sd : 0, 4));
    }
    return {
      recencyDays: recency,
      churnScore: score === null ? null : round(score, 6),
      churnRisk: score === null ? null : churnRisk(score),
      expectedPurchases90d: params && t ? round(expectedPurchases(params, EXPECTED_PURCHASES_WEEKS, t.x, t.tx, t.T), 4) : null,
      abcCategory: this.abc.next(monetary),
      cluster,
      embedding,
    };
  }

  /** The nearest centre by squared distance, the first on ties (as K-Means' final assignment). */
  private nearestCentroid(): number {
    const d = this.features.length;
    let best = 0;
    let bestDistance = Infinity;
    for (let j = 0; j < this.centroids.length / d; j++) {
      const distance = squaredDistance(this.features, 0, this.centroids, j, d);
      if (distance < bestDistance) [best, bestDistance] = [j, distance];
    }
    return best;
  }
}

/** The whole model run over customers held in memory: fit, then profile every customer. */
export function segmentCustomers(
  customers: readonly CustomerAggregate[],
  options: { referenceAt?: number; previous?: readonly PreviousCluster[]; seed?: number } = {},
): SegmentationResult {
  const model = fitSegmentation(customerColumns(customers), options);
  const scorer = new CustomerScorer(model);
  return { ...publicResult(model), profiles: customers.map((c) => scorer.score(c)) };
}

/** The parts of a model a run reports (its job result and the overview read them). */
export function publicResult(model: SegmentationModel): Omit<SegmentationResult, "profiles"> {
  const { state, referenceDate, kSelection, clusters, churnModel, churnNote, embeddingFeatures } = model;
  return { state, referenceDate, kSelection, clusters, churnModel, churnNote, embeddingFeatures };
}

/** Mean and standard deviation (population) of n values given by index, in two passes, as `columnStats`. */
function columnStandardization(n: number, valueAt: (i: number) => number): Standardization {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += valueAt(i);
  mean /= n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const diff = valueAt(i) - mean;
    squares += diff * diff;
  }
  return { mean, sd: usableSd(Math.sqrt(squares / n)) };
}

/** A constant column gets sd 1, so it maps to 0 (as `columnStats`). */
const usableSd = (sd: number) => (sd > 1e-12 ? sd : 1);

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
function roundAll<T extends Record<string, number>>(values: T, digits = 4): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, digits)])) as T;
}
