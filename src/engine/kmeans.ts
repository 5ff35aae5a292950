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
 * Lloyd's k-means on typed arrays (its exact iterates, computed faster with Hamerly's bounds: see
 * `lloyd`). Initial centres by k-means++ (greedy, 2 + ln k candidates per pick, as scikit-learn
 * does), the best of several seeded starts kept. Deterministic for a seed.
 */
export function kmeans(points: Matrix, k: number, options: KMeansOptions = {}): KMeansResult {
  const { seed = 42, restarts = 4, maxIterations = 300, tolerance = 1e-4, initialCentroids } = options;
  if (points.n === 0) throw new RangeError("k-means needs at least one point");
  k = Math.max(1, Math.min(k, points.n));
  // Tolerance 0 (stop only when no centre moves) needs no pass over the data for the variance.
  const scaledTolerance = tolerance === 0 ? 0 : tolerance * meanVariance(points);
  const pointNorms = squaredRowNorms(points.data, points.n, points.d); // shared by the restarts
  // So are the per-point working arrays: at 500,000 points a restart would otherwise leave 24 MB of
  // garbage behind, which the isolate still counts until a collection.
  const scratch = workingArrays(points.n);
  if (initialCentroids) return lloyd(points, cloneMatrix(initialCentroids), maxIterations, scaledTolerance, pointNorms, scratch);
  const random = seededRandom(seed);
  let best: KMeansResult | undefined;
  for (let run = 0; run < restarts; run++) {
    const result = lloyd(points, kmeansPlusPlus(points, k, random, scratch), maxIterations, scaledTolerance, pointNorms, scratch);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

/**
 * Lloyd's algorithm, accelerated with Hamerly's bounds (G. Hamerly, "Making k-means even faster",
 * SIAM SDM 2010). Each point keeps an upper bound on the distance to its own centre and a lower bound
 * on the distance to every other centre; when the centres move, the triangle inequality keeps them
 * valid (the upper grows by its centre's move, the lower shrinks by the largest other move). A point
 * whose upper bound is below its lower bound, or below half the distance from its centre to the
 * nearest other centre, keeps its label without being compared with the k centres: after the first
 * few iterations that is most points. Only points that change cluster touch the cluster sums.
 *
 * The labels are Lloyd's, not an approximation: a point that is compared gets the same rounded scores
 * ||c||² − 2 x·c, summed in the same order, as plain Lloyd; a point is skipped only when its bounds
 * separate by more than any rounding of those scores could undo (`roundingAllowance`). The centres
 * come from sums kept up to date point by point rather than re-added in point order, so they can
 * differ from plain Lloyd's in the last bits (about 1e-15 relative), far too little to move a label.
 */
function lloyd(points: Matrix, centroids: Matrix, maxIterations: number, tolerance: number, pointNorms: Float64Array, scratch = workingArrays(points.n)): KMeansResult {
  const { n, d, data } = points;
  const k = centroids.n;
  const c = centroids.data;
  const labels = new Int32Array(n);
  // Per centre: what the bounds need (see `centreMoves`).
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const norms = new Float64Array(k); // ||c||²
  const moved = new Float64Array(k); // how far it moved in the last update
  const drift = new Float64Array(k); // how far it has moved in all, summed over the updates
  const othersDrift = new Float64Array(k); // the farthest any other centre moved, summed over the updates
  const halfGap = new Float64Array(k); // half the distance to the nearest other centre
  // Per point, in real (not squared) distances, and relative to the drifts so that a point that keeps
  // its label needs no write: its distance to its centre is at most upper + drift[label], to every
  // other centre at least lower − othersDrift[label]. No information before the first assignment.
  const upper = scratch.upper.fill(Infinity);
  const lower = scratch.lower.fill(-Infinity);
  const pending = scratch.pending; // points whose bounds no longer prove their label
  const scores = new Float64Array(Math.max(2, k)); // scratch for `nearest`
  const pointRadius = Math.sqrt(maxOf(pointNorms));
  let radius = 0; // ≥ ||x|| + ||c|| for every point and every centre so far
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    radius = Math.max(radius, pointRadius + Math.sqrt(maxOf(squaredRowNorms(c, k, d, norms))));
    const { scoreError, margin } = roundingAllowance(d, radius + maxOf(drift) + maxOf(othersDrift), iterations);
    // 1. Hamerly's tests (`keepsCentre`) on every point, listing those that fail. Most pass, but
    //    which ones is hard to predict: booleans as 0/1 instead of branches.
    let count = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i]!;
      const u = upper[i]! + drift[a]! + margin;
      const kept = +(u < lower[i]! - othersDrift[a]!) | +(u < halfGap[a]! + margin / 2);
      pending[count] = i;
      count += kept ^ 1;
    }
    // 2. The others: tighten the upper bound and test again, and if that fails, Lloyd's assignment.
    const first = iterations === 0;
    for (let p = 0; p < count; p++) {
      const i = pending[p]!;
      const base = i * d;
      let a = labels[i]!;
      let u = Math.sqrt(squaredDistance(data, base, c, a * d, d));
      let l = lower[i]! - othersDrift[a]!;
      if (!keepsCentre(u, l, halfGap[a]!, margin)) {
        const previous = first ? -1 : a;
        a = nearest(data, base, c, norms, k, d, scores);
        // Real distances from the two lowest scores, widened by their possible rounding error.
        u = Math.sqrt(Math.max(0, scores[0]! + pointNorms[i]! + scoreError));
        l = Math.sqrt(Math.max(0, scores[1]! + pointNorms[i]! - scoreError));
        if (a !== previous) {
          labels[i] = a;
          transfer(data, base, d, sums, counts, previous, a);
        }
      }
      upper[i] = u - drift[a]!;
      lower[i] = l + othersDrift[a]!;
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
    centreMoves(c, k, d, moved, drift, othersDrift, halfGap);
    if (shift <= tolerance) {
      iterations++;
      break;
    }
  }

  // Final assignment to the final centres by squared distance, so labels and inertia agree, in the
  // same pass as the inertia. The bounds still hold: most points need only their own centre.
  radius = Math.max(radius, pointRadius + Math.sqrt(maxOf(squaredRowNorms(c, k, d, norms))));
  const { margin } = roundingAllowance(d, radius + maxOf(drift) + maxOf(othersDrift), iterations);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const base = i * d;
    const a = labels[i]!;
    const own = squaredDistance(data, base, c, a * d, d);
    if (keepsCentre(Math.sqrt(own), lower[i]! - othersDrift[a]!, halfGap[a]!, margin)) {
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

/**
 * Hamerly's tests: the point's centre is still its nearest when the upper bound u on the distance to
 * it is below the lower bound l on the distance to any other, or below half the gap to the nearest
 * other centre (then every other is at least 2·halfGap − u > u away). Both must hold by `margin`, so
 * that rounding cannot overturn them. False for NaN, so non-finite data gets plain Lloyd.
 */
const keepsCentre = (u: number, l: number, halfGap: number, margin: number) => u + margin < l || u + margin / 2 < halfGap;

/**
 * Generous rounding-error allowances, for points and centres within `radius` of the origin (the
 * drifts included). A score ||c||² − 2 x·c, or ||x||², is off by at most (d + 2) unit roundoffs of
 * radius² (`scoreError`); a bound by one rounding per update since it was set, plus those of the
 * moves and gaps it used (`boundError`). A point is skipped only when l − u > `margin`: then, even
 * with the bounds' own error, l² − u² exceeds two scores' rounding error, so Lloyd's rounded scores
 * still rank its centre first. The margin is about 1e-7 of the radius: it costs almost no pruning.
 */
function roundingAllowance(d: number, radius: number, iterations: number) {
  const scoreError = (4 * d + 16) * Number.EPSILON * radius * radius;
  const boundError = (2 * iterations + 4 * d + 32) * Number.EPSILON * radius;
  return { scoreError, margin: 2 * boundError + Math.sqrt(2 * scoreError) };
}

/**
 * Lloyd's assignment of one point: argmin over j of ||c_j||² − 2 x·c_j, the first on ties, with the
 * two lowest scores left in scores[0] and scores[1] (`scores` has room for k). Four centres at a time:
 * each dot product is still summed in Lloyd's order, but four independent sums keep the CPU busy
 * where a single one waits on every addition.
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
    let p0 = 0;
    for (let t = 0; t < d; t++) p0 += data[base + t]! * c[j * d + t]!;
    scores[j] = norms[j]! - 2 * p0;
  }
  let bestJ = 0;
  let lowest = Infinity;
  let second = Infinity;
  for (j = 0; j < k; j++) {
    const score = scores[j]!;
    if (score < lowest) {
      second = lowest;
      lowest = score;
      bestJ = j;
    } else if (score < second) {
      second = score;
    }
  }
  scores[0] = lowest;
  scores[1] = second;
  return bestJ;
}

/** Moves a point's coordinates from one cluster's sum to another's (from −1: its first assignment). */
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
 * After an update (`moved`: how far each centre just moved), for each centre: its drift grows by its
 * move, its others' drift by the farthest any other centre moved (the largest move, or the second
 * largest for the centre that made it), and half the distance to its nearest other centre (Infinity
 * for a lone centre).
 */
function centreMoves(c: Float64Array, k: number, d: number, moved: Float64Array, drift: Float64Array, othersDrift: Float64Array, halfGap: Float64Array): void {
  let farthest = -1;
  let most = 0;
  let secondMost = 0;
  for (let j = 0; j < k; j++) {
    drift[j]! += moved[j]!;
    if (moved[j]! > most) {
      secondMost = most;
      most = moved[j]!;
      farthest = j;
    } else if (moved[j]! > secondMost) {
      secondMost = moved[j]!;
    }
  }
  for (let j = 0; j < k; j++) othersDrift[j]! += j === farthest ? secondMost : most;
  halfGap.fill(Infinity);
  for (let j = 0; j < k; j++) {
    for (let m = j + 1; m < k; m++) {
      const half = Math.sqrt(squaredDistance(c, j * d, c, m * d, d)) / 2;
      if (half < halfGap[j]!) halfGap[j] = half;
      if (half < halfGap[m]!) halfGap[m] = half;
    }
  }
}

/** ||row||² for each of the first n rows of a row-major array. */
function squaredRowNorms(a: Float64Array, n: number, d: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += a[i * d + t]! * a[i * d + t]!;
    out[i] = s;
  }
  return out;
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

function maxOf(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
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

/** Per-point working arrays of one k-means run, reused by the next (each fully rewritten before use). */
type WorkingArrays = ReturnType<typeof workingArrays>;
const workingArrays = (n: number) => ({
  upper: new Float64Array(n),
  lower: new Float64Array(n),
  pending: new Int32Array(n),
  closest: new Float64Array(n),
  candidateDistances: new Float64Array(n),
  bestDistances: new Float64Array(n),
});

/** Greedy k-means++: each new centre is the best (lowest potential) of 2 + ln k candidates drawn ∝ D². */
export function kmeansPlusPlus(points: Matrix, k: number, random: () => number, scratch: WorkingArrays = workingArrays(points.n)): Matrix {
  const { n, d, data } = points;
  const centroids = matrix(k, d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(random() * n);
  centroids.data.set(data.subarray(first * d, first * d + d), 0);
  const { closest, candidateDistances, bestDistances } = scratch;
  for (let i = 0; i < n; i++) closest[i] = distanceTo(data, i, centroids.data, 0, d);
  let potential = closest.reduce((s, v) => s + v, 0);
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
