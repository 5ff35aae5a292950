/**
 * Names for clusters from where their centres sit on recency, frequency and monetary value. Each
 * centre is placed by percentile ranks among all customers (r: 1 = most recent; f, m: 1 = highest);
 * each label has a prototype position; clusters and labels are paired greedily by distance, so every
 * label is used at most once per run.
 */
export type RfmPosition = { r: number; f: number; m: number };

export const segmentPrototypes: ReadonlyArray<{ label: string; position: RfmPosition; description: string }> = [
  { label: "Champions", position: { r: 0.9, f: 0.9, m: 0.9 }, description: "Bought recently, buy often and spend the most" },
  { label: "Loyal Customers", position: { r: 0.65, f: 0.8, m: 0.7 }, description: "Buy regularly and spend well" },
  { label: "Potential Loyalists", position: { r: 0.8, f: 0.55, m: 0.55 }, description: "Recent customers with growing frequency" },
  { label: "New Customers", position: { r: 0.95, f: 0.15, m: 0.25 }, description: "First purchase very recently" },
  { label: "Promising", position: { r: 0.75, f: 0.3, m: 0.35 }, description: "Recent, not yet frequent" },
  { label: "Need Attention", position: { r: 0.5, f: 0.5, m: 0.5 }, description: "Middling on every measure" },
  { label: "About to Sleep", position: { r: 0.35, f: 0.3, m: 0.3 }, description: "Below average recency and frequency" },
  { label: "At Risk", position: { r: 0.2, f: 0.7, m: 0.7 }, description: "Used to buy often and spend well, not lately" },
  { label: "Can't Lose Them", position: { r: 0.1, f: 0.9, m: 0.95 }, description: "Former best customers, long gone quiet" },
  { label: "Hibernating", position: { r: 0.2, f: 0.25, m: 0.25 }, description: "Last purchase long ago, few orders" },
  { label: "Lost", position: { r: 0.05, f: 0.1, m: 0.1 }, description: "Lowest recency, frequency and value" },
];

const distance = (a: RfmPosition, b: RfmPosition) => (a.r - b.r) ** 2 + (a.f - b.f) ** 2 + (a.m - b.m) ** 2;

/** Labels for the given positions; `taken` labels (kept by earlier segments) are not handed out again. */
export function labelClusters(positions: readonly RfmPosition[], taken: ReadonlySet<string> = new Set()): string[] {
  const free = segmentPrototypes.filter((p) => !taken.has(p.label));
  const pairs: Array<{ cluster: number; label: string; cost: number }> = [];
  positions.forEach((position, cluster) => free.forEach((p) => pairs.push({ cluster, label: p.label, cost: distance(position, p.position) })));
  pairs.sort((a, b) => a.cost - b.cost || a.cluster - b.cluster);
  const result: Array<string | undefined> = new Array(positions.length);
  const used = new Set<string>();
  for (const pair of pairs) {
    if (result[pair.cluster] !== undefined || used.has(pair.label)) continue;
    result[pair.cluster] = pair.label;
    used.add(pair.label);
  }
  // More clusters than labels (not with k ≤ 10 and 11 labels, but stay total): number the rest.
  return result.map((label, i) => label ?? `Segment ${i + 1}`);
}

/**
 * Pairs this run's clusters with the previous run's segments (greedy by distance between their RFM
 * positions, within `maxDistance`), so a segment id and its label keep their meaning across runs.
 */
export function matchToPrevious(current: readonly RfmPosition[], previous: ReadonlyArray<{ id: string; position: RfmPosition }>, maxDistance = 0.15) {
  const pairs: Array<{ cluster: number; previous: number; cost: number }> = [];
  current.forEach((c, i) => previous.forEach((p, j) => pairs.push({ cluster: i, previous: j, cost: distance(c, p.position) })));
  pairs.sort((a, b) => a.cost - b.cost || a.cluster - b.cluster || a.previous - b.previous);
  const matched = new Map<number, string>();
  const usedPrevious = new Set<number>();
  for (const pair of pairs) {
    if (pair.cost > maxDistance ** 2 * 3) break;
    if (matched.has(pair.cluster) || usedPrevious.has(pair.previous)) continue;
    matched.set(pair.cluster, previous[pair.previous]!.id);
    usedPrevious.add(pair.previous);
  }
  return matched;
}
