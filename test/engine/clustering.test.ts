import { describe, expect, it } from "vitest";
import { abcCategories } from "../../src/engine/abc";
import { chooseK, kneeOf } from "../../src/engine/auto-k";
import { kmeans, kmeansPlusPlus } from "../../src/engine/kmeans";
import { labelClusters, matchToPrevious, segmentPrototypes } from "../../src/engine/labels";
import { matrix, type Matrix } from "../../src/engine/matrix";
import { seededRandom } from "../../src/engine/random";
import { silhouetteScore } from "../../src/engine/silhouette";
import { cosineNearest } from "../../src/engine/similar";
import { upliftScores } from "../../src/engine/uplift";

/** Gaussian blobs around the given centres, seeded. */
function blobs(centres: number[][], perBlob: number, spread: number, seed = 1): { points: Matrix; truth: Int32Array } {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const d = centres[0]!.length;
  const points = matrix(centres.length * perBlob, d);
  const truth = new Int32Array(points.n);
  centres.forEach((centre, c) => {
    for (let i = 0; i < perBlob; i++) {
      const row = c * perBlob + i;
      truth[row] = c;
      for (let j = 0; j < d; j++) points.data[row * d + j] = centre[j]! + spread * gaussian();
    }
  });
  return { points, truth };
}

describe("k-means", () => {
  it("finds well-separated blobs and is deterministic for a seed", () => {
    const { points, truth } = blobs([[0, 0], [10, 0], [0, 10], [10, 10]], 200, 0.5);
    const a = kmeans(points, 4, { seed: 7 });
    const b = kmeans(points, 4, { seed: 7 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.inertia).toBe(b.inertia);
    // Each true blob maps to exactly one cluster.
    const mapping = new Map<number, Set<number>>();
    truth.forEach((t, i) => (mapping.get(t) ?? mapping.set(t, new Set()).get(t)!).add(a.labels[i]!));
    expect([...mapping.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...mapping.values()].map((s) => [...s][0])).size).toBe(4);
  });

  it("runs from given centres exactly as Lloyd's algorithm would", () => {
    const { points } = blobs([[0, 0], [5, 5]], 50, 1);
    const init = kmeansPlusPlus(points, 2, seededRandom(3));
    const result = kmeans(points, 2, { initialCentroids: init, maxIterations: 1 });
    expect(result.iterations).toBe(1);
    expect(init.data).not.toBe(result.centroids.data);
  });

  it("handles k larger than the points and a single point", () => {
    const one = matrix(1, 2);
    expect(kmeans(one, 3).k).toBe(1);
    expect(() => kmeans(matrix(0, 2), 2)).toThrow(RangeError);
  });
});

/**
 * Plain Lloyd, the textbook loop, as the reference for the accelerated `kmeans`: from `init`, at most
 * `maxIterations` iterations, stopping once the summed squared centre shift is ≤ `tolerance`.
 * Assignment compares ||c||² − 2 x·c (the first centre on ties), as the engine and scikit-learn do;
 * an emptied cluster keeps its centre. After each iteration m it records what a run capped at m
 * iterations returns: the points assigned to those centres by squared distance, and the inertia.
 */
function plainLloyd(points: Matrix, init: Matrix, maxIterations: number, tolerance = 0) {
  const { n, d, data } = points;
  const k = init.n;
  const centres = Float64Array.from(init.data);
  const nearest = (i: number, score: (i: number, j: number) => number) => {
    let bestJ = 0;
    let best = Infinity;
    for (let j = 0; j < k; j++) {
      const s = score(i, j);
      if (s < best) [best, bestJ] = [s, j];
    }
    return bestJ;
  };
  const lloydScore = (i: number, j: number) => {
    let norm = 0;
    let dot = 0;
    for (let t = 0; t < d; t++) {
      norm += centres[j * d + t]! * centres[j * d + t]!;
      dot += data[i * d + t]! * centres[j * d + t]!;
    }
    return norm - 2 * dot;
  };
  const squaredDistance = (i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (data[i * d + t]! - centres[j * d + t]!) ** 2;
    return s;
  };
  const snapshot = (iterations: number) => {
    const labels = Int32Array.from({ length: n }, (_, i) => nearest(i, squaredDistance));
    let inertia = 0;
    labels.forEach((j, i) => (inertia += squaredDistance(i, j)));
    return { labels, inertia, centroids: Float64Array.from(centres), iterations };
  };
  const runs = [snapshot(0)];
  let emptied = false; // a cluster that had points lost them all
  const hadPoints = new Array<boolean>(k).fill(false);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const j = nearest(i, lloydScore);
      counts[j]!++;
      for (let t = 0; t < d; t++) sums[j * d + t]! += data[i * d + t]!;
    }
    let shift = 0;
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        emptied ||= hadPoints[j]!;
        continue;
      }
      hadPoints[j] = true;
      for (let t = 0; t < d; t++) {
        const next = sums[j * d + t]! / counts[j]!;
        shift += (next - centres[j * d + t]!) ** 2;
        centres[j * d + t] = next;
      }
    }
    runs.push(snapshot(iteration));
    if (shift <= tolerance) break;
  }
  return { runs, emptied };
}

/** Uniform points in the unit cube, or Gaussian blobs (spread 0.4) around `blobs` centres in [−10, 10]^d. */
function randomPoints(n: number, d: number, blobs: number, seed: number): Matrix {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: blobs * d }, () => 20 * random() - 10);
  const points = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const blob = Math.floor(random() * blobs);
    for (let t = 0; t < d; t++) points.data[i * d + t] = blobs === 0 ? random() : centres[blob * d + t]! + 0.4 * gaussian();
  }
  return points;
}

/** The accelerated k-means, capped at every iteration count in turn, against plain Lloyd's iterates. */
function expectLloydIterates(points: Matrix, init: Matrix, maxIterations: number) {
  const { runs, emptied } = plainLloyd(points, init, maxIterations);
  for (let cap = 0; cap <= maxIterations; cap++) {
    const expected = runs[Math.min(cap, runs.length - 1)]!;
    const fit = kmeans(points, init.n, { initialCentroids: init, maxIterations: cap, tolerance: 0 });
    expect(fit.iterations).toBe(expected.iterations);
    expect(fit.labels).toEqual(expected.labels);
    expect(Math.abs(fit.inertia - expected.inertia)).toBeLessThanOrEqual(1e-12 * expected.inertia);
    fit.centroids.data.forEach((v, i) => expect(Math.abs(v - expected.centroids[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v))));
  }
  return { iterations: runs.length - 1, emptied };
}

describe("k-means is Lloyd's algorithm (Hamerly's bounds change only the speed)", () => {
  for (const d of [2, 4, 8]) {
    for (const [shape, blobs] of [["uniform", 0], ["blobs", 5]] as const) {
      it(`gives plain Lloyd's labels, centres and inertia at every iteration: d = ${d}, ${shape}`, () => {
        for (const k of [1, 2, 3, 5, 8]) {
          const points = randomPoints(600, d, blobs, 100 * d + k + blobs);
          const init = kmeansPlusPlus(points, k, seededRandom(k));
          const { iterations } = expectLloydIterates(points, init, 40);
          if (k > 1) expect(iterations).toBeGreaterThan(1); // the bounds were used
        }
      });
    }
  }

  it("keeps an emptied cluster's centre, and gives the first of tied centres the points", () => {
    // On a line: the middle centre takes 2 and 8 at first, then the outer centres, having moved in to
    // their groups, are nearer to both, and the middle cluster empties.
    const line = matrix(8, 2);
    line.data.set([0, 0, 0, 0.1, 0, -0.1, 2, 0, 8, 0, 10, 0, 10, 0.1, 10, -0.1]);
    const init = matrix(3, 2);
    init.data.set([-4, 0, 14, 0, 5, 0]);
    expect(expectLloydIterates(line, init, 10).emptied).toBe(true);
    const fit = kmeans(line, 3, { initialCentroids: init, tolerance: 0 });
    expect(Array.from(fit.centroids.data.subarray(4))).toEqual([5, 0]);
    expect(Array.from(fit.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);

    // Two identical initial centres: the first takes every point they share, the second stays empty
    // until the first moves away; and a centre far from all the points never gets one.
    const points = randomPoints(400, 4, 3, 7);
    const seeds = kmeansPlusPlus(points, 3, seededRandom(1));
    const twins = matrix(5, 4);
    twins.data.set(seeds.data);
    twins.data.set(seeds.data.subarray(0, 4), 12);
    twins.data.set([100, 100, 100, 100], 16);
    expectLloydIterates(points, twins, 30);
  });

  it("stops where plain Lloyd does with a tolerance, and keeps the best restart like plain Lloyd", () => {
    const points = randomPoints(800, 4, 6, 3);
    const mean = (t: number) => points.data.filter((_, i) => i % 4 === t).reduce((s, v) => s + v, 0) / points.n;
    let variance = 0;
    for (let t = 0; t < 4; t++) variance += points.data.filter((_, i) => i % 4 === t).reduce((s, v) => s + (v - mean(t)) ** 2, 0) / points.n;
    const tolerance = 1e-4;
    const random = seededRandom(9);
    let best: ReturnType<typeof plainLloyd>["runs"][number] | undefined;
    for (let run = 0; run < 3; run++) {
      const { runs } = plainLloyd(points, kmeansPlusPlus(points, 5, random), 300, (tolerance * variance) / 4);
      if (!best || runs.at(-1)!.inertia < best.inertia) best = runs.at(-1)!;
    }
    const fit = kmeans(points, 5, { seed: 9, restarts: 3, tolerance });
    expect(fit.iterations).toBe(best!.iterations);
    expect(fit.labels).toEqual(best!.labels);
    expect(fit.inertia).toBeCloseTo(best!.inertia, 9);
  });
});

describe("choosing k", () => {
  it("finds the number of blobs from the inertia knee and the silhouette", () => {
    const { points } = blobs([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8]], 150, 0.8, 11);
    const selection = chooseK(points, { seed: 5 });
    expect(selection.k).toBe(4);
    expect(Object.keys(selection.inertiaByK).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(selection.silhouetteByK[4]).toBeGreaterThan(0.6);
  });

  it("takes the knee as the point farthest below the chord", () => {
    expect(kneeOf({ 2: 100, 3: 40, 4: 20, 5: 18, 6: 17 })).toBe(3);
    expect(kneeOf({ 2: 10, 3: 10 })).toBe(2);
  });

  it("copes with fewer distinct points than k", () => {
    const points = matrix(5, 2);
    points.data.set([1, 1, 1, 1, 2, 2, 2, 2, 1, 1]);
    expect(chooseK(points).k).toBe(2);
    expect(chooseK(matrix(1, 2)).k).toBe(1);
  });

  it("scores silhouettes like scikit-learn on a small case", () => {
    const points = matrix(4, 1);
    points.data.set([0, 1, 10, 11]);
    // a = 1; b = 10.5 for the outer points, 9.5 for the inner ones (scikit-learn: 0.8997493734335839)
    expect(silhouetteScore(points, Int32Array.from([0, 0, 1, 1]), 2)).toBeCloseTo(0.8997493734335839, 12);
  });
});

describe("labels", () => {
  it("names clusters after the nearest prototype, each label once", () => {
    const labels = labelClusters([
      { r: 0.92, f: 0.9, m: 0.88 },
      { r: 0.06, f: 0.1, m: 0.12 },
      { r: 0.9, f: 0.85, m: 0.9 },
    ]);
    expect(labels[0]).toBe("Champions");
    expect(labels[1]).toBe("Lost");
    expect(new Set(labels).size).toBe(3);
    expect(labelClusters(segmentPrototypes.map((p) => p.position).slice(0, 10))).toEqual(segmentPrototypes.slice(0, 10).map((p) => p.label));
  });

  it("keeps a previous segment when a cluster sits where it was", () => {
    const matched = matchToPrevious(
      [{ r: 0.5, f: 0.5, m: 0.5 }, { r: 0.9, f: 0.9, m: 0.9 }],
      [{ id: "champions", position: { r: 0.88, f: 0.92, m: 0.9 } }, { id: "far", position: { r: 0, f: 1, m: 0 } }],
    );
    expect(matched.get(1)).toBe("champions");
    expect(matched.has(0)).toBe(false);
  });
});

describe("ABC", () => {
  it("splits by cumulative revenue share at 80% and 95%", () => {
    // Shares: 50, 25 (75% before the third), 10 (85%), 8 (93%), 4 (97%), 3 (100%), 0
    expect(abcCategories([50, 25, 10, 8, 4, 3, 0])).toEqual(["A", "A", "A", "B", "B", "C", "C"]);
    expect(abcCategories([0, -5])).toEqual(["C", "C"]);
    expect(abcCategories([])).toEqual([]);
  });
});

describe("uplift (two models)", () => {
  it("recovers a known treatment effect that only frequent buyers respond to", () => {
    const random = seededRandom(99);
    const n = 4000;
    const d = 1;
    const features = new Float64Array(n);
    const treated = new Float64Array(n);
    const converted = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const frequent = random() < 0.5;
      features[i] = frequent ? 1 : -1;
      treated[i] = random() < 0.5 ? 1 : 0;
      const base = 0.1;
      const effect = frequent && treated[i] ? 0.25 : 0;
      converted[i] = random() < base + effect ? 1 : 0;
    }
    const scores = upliftScores({ features, treated, converted }, Float64Array.from([1, -1]), d)!;
    expect(scores[0]).toBeCloseTo(0.25, 1);
    expect(Math.abs(scores[1]!)).toBeLessThan(0.05);
    expect(upliftScores({ features: features.slice(0, 10), treated: treated.slice(0, 10), converted: converted.slice(0, 10) }, features, d)).toBeNull();
  });
});

describe("similar customers", () => {
  it("ranks by cosine similarity and leaves the query out", () => {
    const vectors = Float64Array.from([1, 0, 0.9, 0.1, 0, 1, -1, 0]);
    expect(cosineNearest([1, 0], vectors, 2, 2, 0).map((n) => n.index)).toEqual([1, 2]);
    expect(cosineNearest([0, 0], vectors, 2, 1)[0]!.similarity).toBe(0);
  });
});
