import { matrix, type Matrix } from "./matrix";
import { seededRandom } from "./random";

export type KMeansResult = { k: number; centroids: Matrix; labels: Int32Array; inertia: number; iterations: number };

export type KMeansOptions = {
  seed?: number;
  /** independent k-means++ starts; the lowest inertia wins */
  restarts?: number;
  maxIterations?: number;
  /** stop when centres move less than this (sum of squared shifts, relative to the data's variance) */
  tolerance?: number;
  /** explicit initial centres (k × d): one run from them, no k-means++ */
  initialCentroids?: Matrix;
};

/**
 * Lloyd's k-means on typed arrays. Initial centres by k-means++ (greedy, 2 + ln k candidates per
 * pick, as scikit-learn does), the best of several seeded starts kept. Deterministic for a seed.
 */
export function kmeans(points: Matrix, k: number, options: KMeansOptions = {}): KMeansResult {
  const { seed = 42, restarts = 4, maxIterations = 300, tolerance = 1e-4, initialCentroids } = options;
  if (points.n === 0) throw new RangeError("k-means needs at least one point");
  k = Math.max(1, Math.min(k, points.n));
  const scaledTolerance = tolerance * meanVariance(points);
  if (initialCentroids) return lloyd(points, cloneMatrix(initialCentroids), maxIterations, scaledTolerance);
  const random = seededRandom(seed);
  let best: KMeansResult | undefined;
  for (let run = 0; run < restarts; run++) {
    const result = lloyd(points, kmeansPlusPlus(points, k, random), maxIterations, scaledTolerance);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

function lloyd(points: Matrix, centroids: Matrix, maxIterations: number, tolerance: number): KMeansResult {
  const { n, d, data } = points;
  const k = centroids.n;
  const labels = new Int32Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const c = centroids.data;
  const centroidNorms = new Float64Array(k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // Assign: argmin over ||c||² − 2 x·c (||x||² is the same for every centre).
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += c[j * d + t]! * c[j * d + t]!;
      centroidNorms[j] = s;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const base = i * d;
      let bestJ = 0;
      let bestScore = Infinity;
      for (let j = 0; j < k; j++) {
        let dotProduct = 0;
        const cj = j * d;
        for (let t = 0; t < d; t++) dotProduct += data[base + t]! * c[cj + t]!;
        const score = centroidNorms[j]! - 2 * dotProduct;
        if (score < bestScore) {
          bestScore = score;
          bestJ = j;
        }
      }
      labels[i] = bestJ;
      counts[bestJ]! += 1;
      const sj = bestJ * d;
      for (let t = 0; t < d; t++) sums[sj + t]! += data[base + t]!;
    }
    // Update; an emptied cluster keeps its centre.
    let shift = 0;
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) continue;
      for (let t = 0; t < d; t++) {
        const next = sums[j * d + t]! / counts[j]!;
        const diff = next - c[j * d + t]!;
        shift += diff * diff;
        c[j * d + t] = next;
      }
    }
    if (shift <= tolerance) {
      iterations++;
      break;
    }
  }
  return { k, centroids, labels: assign(points, centroids, labels), inertia: inertiaOf(points, centroids, labels), iterations };
}

/** Final assignment to the final centres, so labels and inertia agree. */
function assign(points: Matrix, centroids: Matrix, labels: Int32Array): Int32Array {
  const { n, d, data } = points;
  for (let i = 0; i < n; i++) {
    let bestJ = 0;
    let best = Infinity;
    for (let j = 0; j < centroids.n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = data[i * d + t]! - centroids.data[j * d + t]!;
        s += diff * diff;
      }
      if (s < best) {
        best = s;
        bestJ = j;
      }
    }
    labels[i] = bestJ;
  }
  return labels;
}

export function inertiaOf(points: Matrix, centroids: Matrix, labels: Int32Array): number {
  const { n, d, data } = points;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const j = labels[i]!;
    for (let t = 0; t < d; t++) {
      const diff = data[i * d + t]! - centroids.data[j * d + t]!;
      total += diff * diff;
    }
  }
  return total;
}

/** Greedy k-means++: each new centre is the best (lowest potential) of 2 + ln k candidates drawn ∝ D². */
export function kmeansPlusPlus(points: Matrix, k: number, random: () => number): Matrix {
  const { n, d, data } = points;
  const centroids = matrix(k, d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(random() * n);
  centroids.data.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = distanceTo(data, i, centroids.data, 0, d);
  let potential = closest.reduce((s, v) => s + v, 0);
  const candidateDistances = new Float64Array(n);
  const bestDistances = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestCandidate = -1;
    let bestPotential = Infinity;
    for (let trial = 0; trial < trials; trial++) {
      const candidate = potential > 0 ? sampleProportional(closest, potential, random()) : Math.floor(random() * n);
      let candidatePotential = 0;
      for (let i = 0; i < n; i++) {
        const dist = Math.min(closest[i]!, distanceTo(data, i, data, candidate, d));
        candidateDistances[i] = dist;
        candidatePotential += dist;
      }
      if (candidatePotential < bestPotential) {
        bestPotential = candidatePotential;
        bestCandidate = candidate;
        bestDistances.set(candidateDistances);
      }
    }
    centroids.data.set(data.subarray(bestCandidate * d, bestCandidate * d + d), c * d);
    closest.set(bestDistances);
    potential = bestPotential;
  }
  return centroids;
}

function sampleProportional(weights: Float64Array, total: number, u: number): number {
  let target = u * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target <= 0) return i;
  }
  return weights.length - 1;
}

function distanceTo(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = a[i * d + t]! - b[j * d + t]!;
    s += diff * diff;
  }
  return s;
}

function meanVariance(points: Matrix): number {
  const { n, d, data } = points;
  if (n === 0) return 0;
  let total = 0;
  for (let t = 0; t < d; t++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * d + t]!;
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (data[i * d + t]! - mean) ** 2;
    total += variance / n;
  }
  return total / d;
}

const cloneMatrix = (m: Matrix): Matrix => ({ data: Float64Array.from(m.data), n: m.n, d: m.d });
