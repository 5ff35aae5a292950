import { kmeans } from "./kmeans";
import { selectRows, type Matrix } from "./matrix";
import { sampleIndexes, seededRandom } from "./random";
import { silhouetteScore } from "./silhouette";

export type KSelection = {
  k: number;
  /** the elbow of the inertia curve, before the silhouette check */
  knee: number;
  inertiaByK: Record<number, number>;
  silhouetteByK: Record<number, number>;
  /** points the curve was computed on (a seeded sample for large n) */
  sampleSize: number;
  silhouetteSampleSize: number;
};

export type KSelectionOptions = {
  minK?: number;
  maxK?: number;
  seed?: number;
  /** the inertia curve is computed on at most this many points */
  curveSample?: number;
  /** the silhouette (O(n²)) on at most this many of them */
  silhouetteSample?: number;
  /** a neighbour of the knee must beat its silhouette by this much to be chosen instead */
  silhouetteMargin?: number;
};

/**
 * Chooses k: k-means for k = minK..maxK, the knee of the inertia curve (the point farthest below the
 * chord from the first to the last point, both axes scaled to [0, 1]), then confirmed by the silhouette:
 * of the knee and its two neighbours, a neighbour wins only if its silhouette beats the knee's by the
 * margin. Deterministic for a seed.
 */
export function chooseK(points: Matrix, options: KSelectionOptions = {}): KSelection {
  const { minK = 2, maxK = 10, seed = 42, curveSample = 10_000, silhouetteSample = 2_000, silhouetteMargin = 0.02 } = options;
  const random = seededRandom(seed);
  const sample = points.n > curveSample ? selectRows(points, sampleIndexes(points.n, curveSample, random)) : points;
  const distinct = countDistinctRows(sample, maxK + 1);
  const upper = Math.min(maxK, distinct, sample.n);
  if (upper < minK) {
    const k = Math.max(1, Math.min(upper, sample.n));
    return { k, knee: k, inertiaByK: {}, silhouetteByK: {}, sampleSize: sample.n, silhouetteSampleSize: 0 };
  }
  const silhouetteRows = sampleIndexes(sample.n, silhouetteSample, random);
  const silhouettePoints = selectRows(sample, silhouetteRows);
  const inertiaByK: Record<number, number> = {};
  const silhouetteByK: Record<number, number> = {};
  for (let k = minK; k <= upper; k++) {
    const fit = kmeans(sample, k, { seed: seed + k, restarts: 3 });
    inertiaByK[k] = fit.inertia;
    const labels = Int32Array.from(silhouetteRows, (row) => fit.labels[row]!);
    silhouetteByK[k] = silhouetteScore(silhouettePoints, labels, k);
  }
  const knee = kneeOf(inertiaByK);
  let k = knee;
  let toBeat = silhouetteByK[knee]! + silhouetteMargin;
  for (const neighbour of [knee - 1, knee + 1]) {
    const score = silhouetteByK[neighbour];
    if (score !== undefined && score > toBeat) [k, toBeat] = [neighbour, score];
  }
  return { k, knee, inertiaByK, silhouetteByK, sampleSize: sample.n, silhouetteSampleSize: silhouettePoints.n };
}

/** The knee of a decreasing curve: the point farthest below the chord joining its ends (Kneedle). */
export function kneeOf(curve: Record<number, number>): number {
  const ks = Object.keys(curve).map(Number).sort((a, b) => a - b);
  if (ks.length <= 2) return ks[0] ?? 1;
  const first = ks[0]!;
  const last = ks.at(-1)!;
  const high = curve[first]!;
  const low = curve[last]!;
  const span = high - low;
  if (span <= 0) return first;
  let best = first;
  let bestGap = -Infinity;
  for (const k of ks) {
    const x = (k - first) / (last - first);
    const y = (curve[k]! - low) / span;
    const gap = 1 - x - y;
    if (gap > bestGap + 1e-12) {
      bestGap = gap;
      best = k;
    }
  }
  return best;
}

/** Distinct rows, counting no further than `limit` (k cannot exceed the number of distinct points). */
function countDistinctRows(m: Matrix, limit: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < m.n && seen.size < limit; i++) seen.add(Array.from(m.data.subarray(i * m.d, i * m.d + m.d)).join(","));
  return seen.size;
}
