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
  // tolerance 0 (stop only when no centre moves) needs no pass for the variance
  const scaledTolerance = tolerance === 0 ? 0 : tolerance * meanVariance(points);
  // ||x||² per point (for the bounds), and the largest ||x|| (for the rounding-error margins)
  const pointNorms = squaredRowNorms(points.data, points.n, points.d);
  const pointRadius = Math.sqrt(pointNorms.reduce((max, v) => Math.max(max, v), 0));
  if (initialCentroids) return lloyd(points, cloneMatrix(initialCentroids), maxIterations, scaledTolerance, pointNorms, pointRadius);
  const random = seededRandom(seed);
  let best: KMeansResult | undefined;
  for (let run = 0; run < restarts; run++) {
    const result = lloyd(points, kmeansPlusPlus(points, k, random), maxIterations, scaledTolerance, pointNorms, pointRadius);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

/**
 * Lloyd's algorithm with Hamerly's bounds (G. Hamerly, "Making k-means even faster", SDM 2010). Each
 * point keeps an upper bound on the distance to its own centre and a lower bound on the distance to
 * every other centre; both stay valid as the centres move (triangle inequality). While they separate,
 * or the point is within half the gap from its centre to the nearest other centre, its label cannot
 * change and it is not compared with the k centres; in practice almost every point is skipped after
 * the first few iterations.
 *
 * The iterates are Lloyd's exactly, not just approximately: a point that is compared gets the same
 * scores, computed in the same order, as in plain Lloyd; a point is skipped only with a margin that
 * no rounding of those scores could overturn (see `separated`); and the cluster sums are rebuilt in
 * point order every iteration (one add per coordinate, cheap next to k distances), so every centre
 * matches plain Lloyd's bit for bit. Incremental sums would drift in the last bits instead.
 */
function lloyd(
  points: Matrix,
  centroids: Matrix,
  maxIterations: number,
  tolerance: number,
  pointNorms: Float64Array,
  pointRadius: number,
): KMeansResult {
  const { n, d, data } = points;
  const k = centroids.n;
  const c = centroids.data;
  const labels = new Int32Array(n);
  const upper = new Float64Array(n).fill(Infinity); // ≥ distance from each point to its centre
  const lower = new Float64Array(n).fill(-Infinity); // ≤ distance from each point to every other centre
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const norms = new Float64Array(k); // ||c_j||²
  const moved = new Float64Array(k); // how far each centre moved in the last update
  const halfGap = new Float64Array(k); // half the distance from each centre to its nearest other one
  const reach = new Float64Array(k); // halfGap less half the safety margin
  const scores = new Float64Array(Math.max(2, k)); // scratch for `nearest`
  const moves = { farthest: -1, most: 0, secondMost: 0 };
  // ≥ ||x|| + ||c|| for every point and every centre so far: scales the rounding-error margins.
  let radius = 0;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    radius = Math.max(radius, (pointRadius + maxRowNorm(c, k, d)) * (1 + 1e-9));
    const scoreError = scoreErrorBound(d, radius);
    const margin = safetyMargin(d, radius, iterations);
    for (let j = 0; j < k; j++) reach[j] = halfGap[j]! - margin / 2;
    const { farthest, most, secondMost } = moves;
    squaredRowNorms(c, k, d, norms);
    for (let i = 0; i < n; i++) {
      const base = i * d;
      let a = labels[i]!;
      // Bounds follow the centres' moves: own centre by its move, the others by the largest other move.
      let u = upper[i]! + moved[a]!;
      let l = lower[i]! - (a === farthest ? secondMost : most);
      if (!(u < reach[a]! || u + margin < l)) {
        u = Math.sqrt(squaredDistance(data, base, c, a * d, d)); // tighten the upper bound, test again
        if (!(u < reach[a]! || u + margin < l)) {
          const previous = iterations === 0 ? -1 : a;
          a = nearest(data, base, c, norms, k, d, scores);
          // Bounds from the scores, widened by their possible rounding error.
          const xx = pointNorms[i]!;
          u = Math.sqrt(Math.max(0, scores[0]! + xx + scoreError));
          l = Math.sqrt(Math.max(0, scores[1]! + xx - scoreError));
          if (a !== previous) {
            labels[i] = a;
            transfer(data, base, d, sums, counts, previous, a);
          }
        }
        upper[i] = u;
      }
      upper[i] = u;
      lower[i] = l;
    }
    // Update; an emptied cluster keeps its centre.
    let shift = 0;
    for (let j = 0; j < k; j++) {
      let squaredMove = 0;
      if (counts[j] !== 0) {
        for (let t = 0; t < d; t++) {
          const next = sums[j * d + t]! / counts[j]!;
          const diff = next - c[j * d + t]!;
          shift += diff * diff;
          squaredMove += diff * diff;
          c[j * d + t] = next;
        }
      }
      moved[j] = Math.sqrt(squaredMove);
    }
    summariseMoves(moved, moves);
    halfGaps(c, k, d, halfGap);
    if (shift <= tolerance) {
      iterations++;
      break;
    }
  }

  // Final assignment to the final centres by squared distance, so labels and inertia agree; the
  // bounds still apply, so most points are measured against their own centre only.
  radius = Math.max(radius, (pointRadius + maxRowNorm(c, k, d)) * (1 + 1e-9));
  const margin = safetyMargin(d, radius, iterations);
  const { farthest, most, secondMost } = moves;
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const base = i * d;
    const a = labels[i]!;
    const l = lower[i]! - (a === farthest ? secondMost : most);
    const own = squaredDistance(data, base, c, a * d, d);
    const u = Math.sqrt(own);
    if (u < halfGap[a]! - margin / 2 || u + margin < l) {
      inertia += own;
      continue;
    }
    let bestJ = 0;
    let best = Infinity;
    for (let j = 0; j < k; j++) {
      const s = squaredDistance(data, base, c, j * d, d);
      if (s < best) {
        best = s;
        bestJ = j;
      }
    }
    labels[i] = bestJ;
    inertia += best;
  }
  return { k, centroids, labels, inertia, iterations };
}

/** Moves a point's coordinates from one cluster's sum to another's (from −1: a first assignment). */
function transfer(data: Float64Array, base: number, d: number, sums: Float64Array, counts: Float64Array, from: number, to: number): void {
  if (from >= 0) {
    // An emptied cluster's sum restarts from exact zero, not from the subtractions' rounding residue.
    if (--counts[from]! === 0) sums.fill(0, from * d, from * d + d);
    else for (let t = 0; t < d; t++) sums[from * d + t]! -= data[base + t]!;
  }
  counts[to]! += 1;
  for (let t = 0; t < d; t++) sums[to * d + t]! += data[base + t]!;
}

/**
 * Rounding-error allowances, generous, for points and centres within `radius` of the origin. A score
 * ||c||² − 2 x·c (or ||x||²) is off by at most (d + 2) unit roundoffs of radius²; a bound by one
 * rounding per update since it was set, plus those of the moves and gaps it used.
 */
const scoreErrorBound = (d: number, radius: number) => (4 * d + 16) * Number.EPSILON * radius * radius;
const boundErrorBound = (d: number, radius: number, iterations: number) => (2 * iterations + 4 * d + 32) * Number.EPSILON * radius;

/**
 * How far the bounds must separate before a point is skipped: if its distance to its centre is at
 * most u and to any other at least l, with l − u above this margin, then l² − u² exceeds twice a
 * score's rounding error even after the bounds' own error, so Lloyd's rounded scores pick the same
 * centre. Tiny (about 1e-7 of the data's radius), so it costs almost no pruning.
 */
const safetyMargin = (d: number, radius: number, iterations: number) =>
  2 * boundErrorBound(d, radius, iterations) + Math.sqrt(2 * scoreErrorBound(d, radius));

/**
 * Lloyd's assignment of one point: argmin over j of ||c_j||² − 2 x·c_j, the first on ties, with the
 * two lowest scores left in scores[0] and scores[1] (`scores` has room for k). Four centres at a time:
 * each dot product is still summed in Lloyd's order, but four independent sums keep the CPU busy
 * (a single one waits on every addition).
 */
function nearest(data: Float64Array, base: number, c: Float64Array, norms: Float64Array, k: number, d: number, scores: Float64Array): number {
  let j = 0;
  for (; j + 4 <= k; j += 4) {
    const c0 = j * d;
    const c1 = c0 + d;
    const c2 = c1 + d;
    const c3 = c2 + d;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    for (let t = 0; t < d; t++) {
      const x = data[base + t]!;
      p0 += x * c[c0 + t]!;
      p1 += x * c[c1 + t]!;
      p2 += x * c[c2 + t]!;
      p3 += x * c[c3 + t]!;
    }
    scores[j] = norms[j]! - 2 * p0;
    scores[j + 1] = norms[j + 1]! - 2 * p1;
    scores[j + 2] = norms[j + 2]! - 2 * p2;
    scores[j + 3] = norms[j + 3]! - 2 * p3;
  }
  for (; j + 2 <= k; j += 2) {
    const c0 = j * d;
    const c1 = c0 + d;
    let p0 = 0;
    let p1 = 0;
    for (let t = 0; t < d; t++) {
      const x = data[base + t]!;
      p0 += x * c[c0 + t]!;
      p1 += x * c[c1 + t]!;
    }
    scores[j] = norms[j]! - 2 * p0;
    scores[j + 1] = norms[j + 1]! - 2 * p1;
  }
  if (j < k) {
    const cj = j * d;
    let dotProduct = 0;
    for (let t = 0; t < d; t++) dotProduct += data[base + t]! * c[cj + t]!;
    scores[j] = norms[j]! - 2 * dotProduct;
  }
  let bestJ = 0;
  let first = Infinity;
  let second = Infinity;
  for (j = 0; j < k; j++) {
    const score = scores[j]!;
    if (score < first) {
      second = first;
      first = score;
      bestJ = j;
    } else if (score < second) {
      second = score;
    }
  }
  scores[0] = first;
  scores[1] = second;
  return bestJ;
}

/** The largest centre move, which centre made it, and the second largest (the bound for that centre's own points). */
function summariseMoves(moved: Float64Array, out: { farthest: number; most: number; secondMost: number }): void {
  let farthest = -1;
  let most = 0;
  let secondMost = 0;
  for (let j = 0; j < moved.length; j++) {
    const m = moved[j]!;
    if (m > most) {
      secondMost = most;
      most = m;
      farthest = j;
    } else if (m > secondMost) {
      secondMost = m;
    }
  }
  out.farthest = farthest;
  out.most = most;
  out.secondMost = secondMost;
}

/** Half the distance from each centre to its nearest other centre (Infinity for a lone centre). */
function halfGaps(c: Float64Array, k: number, d: number, out: Float64Array): void {
  out.fill(Infinity);
  for (let j = 0; j < k; j++) {
    for (let m = j + 1; m < k; m++) {
      const half = Math.sqrt(squaredDistance(c, j * d, c, m * d, d)) / 2;
      if (half < out[j]!) out[j] = half;
      if (half < out[m]!) out[m] = half;
    }
  }
}

/** ||row||² for each of the first n rows of a row-major array. */
function squaredRowNorms(a: Float64Array, n: number, d: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) out[i] = squaredNorm(a, i * d, d);
  return out;
}

function squaredNorm(a: Float64Array, base: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += a[base + t]! * a[base + t]!;
  return s;
}

/** Squared distance between the rows starting at a[i] and b[j]. */
function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = a[i + t]! - b[j + t]!;
    s += diff * diff;
  }
  return s;
}

/** The largest Euclidean norm among the first n rows of a row-major array. */
function maxRowNorm(a: Float64Array, n: number, d: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, squaredNorm(a, i * d, d));
  return Math.sqrt(max);
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
