import type { Matrix } from "./matrix";
import { squaredDistance } from "./matrix";

/**
 * Mean silhouette coefficient of the given rows (a sample: the full score is O(n²)). For each point:
 * (b − a) / max(a, b), with a the mean distance to its own cluster and b to the nearest other one.
 * Points alone in their cluster score 0, as in scikit-learn.
 */
export function silhouetteScore(points: Matrix, labels: Int32Array, k: number): number {
  const { n, d, data } = points;
  if (k < 2 || n < 2) return 0;
  const clusterSizes = new Float64Array(k);
  for (let i = 0; i < n; i++) clusterSizes[labels[i]!]! += 1;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[labels[j]!]! += Math.sqrt(squaredDistance(data, i, data, j, d));
    const own = labels[i]!;
    if (clusterSizes[own]! <= 1) continue;
    const a = sums[own]! / (clusterSizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && clusterSizes[c]! > 0) b = Math.min(b, sums[c]! / clusterSizes[c]!);
    if (!Number.isFinite(b)) continue;
    const denominator = Math.max(a, b);
    total += denominator > 0 ? (b - a) / denominator : 0;
  }
  return total / n;
}
