import { analyticsStore } from "../analytics";
import { bucketRange, isoInZone, nextBucket, type Granularity } from "../analytics/buckets";
import type { UsageDimension, UsageEventType } from "../analytics";
import type { Bindings } from "../env";

export const usageGroups = ["project", "api_key", "type"] as const;
export type UsageGroup = (typeof usageGroups)[number];

const groupDimension: Record<UsageGroup, UsageDimension> = { project: "projectId", api_key: "apiKeyId", type: "type" };
const groupKey: Record<UsageGroup, string> = { project: "project_id", api_key: "api_key_id", type: "type" };
const metricOf: Partial<Record<UsageEventType, Metric>> = {
  rows_ingested: "events",
  api_request: "api_requests",
  model_run: "model_runs",
  genai_op: "genai_ops",
};
const metrics = ["events", "api_requests", "model_runs", "genai_ops"] as const;
type Metric = (typeof metrics)[number];

/**
 * Usage per time bucket in a zone (the organization usage series: start/end, hour/day/month, group_by, IANA zone). The store sums events into 15-minute UTC slots (every
 * zone's offset is a multiple of 15 minutes), and each slot lands in exactly one local bucket. With
 * group_by, every combination seen in the range appears in every bucket, zeros included, so series
 * line up; without, each bucket has one entry.
 */
export async function usageSeries(
  env: Bindings,
  query: { organizationId: string; start: number; end: number; granularity: Granularity; tz: string; groupBy: UsageGroup[]; limit: number },
) {
  const buckets = bucketRange(query.start, query.end, query.granularity, query.tz, query.limit);
  const from = Math.max(query.start, buckets[0] ?? query.start);
  const dimensions = [...new Set<UsageDimension>(["type", ...query.groupBy.map((g) => groupDimension[g])])];
  const rows = buckets.length
    ? await analyticsStore(env).usage({
        organizationId: query.organizationId,
        types: ["rows_ingested", "api_request", "model_run", "genai_op"],
        start: from,
        end: query.end,
        slotMinutes: 15,
        dimensions,
      })
    : [];

  const ends = buckets.map((b, i) => buckets[i + 1] ?? Math.min(query.end, nextBucket(b, query.granularity, query.tz)));
  const combos = new Map<string, Record<string, string | null>>();
  const sums = new Map<string, Record<Metric, number>>();
  for (const row of rows) {
    const bucket = findBucket(buckets, ends, row.slot);
    const metric = metricOf[row.type as UsageEventType];
    if (bucket === -1 || !metric) continue;
    const dims: Record<string, string | null> = {};
    for (const g of query.groupBy) dims[groupKey[g]] = row[groupDimension[g]] ?? null;
    const comboKey = JSON.stringify(dims);
    combos.set(comboKey, dims);
    const key = `${bucket}|${comboKey}`;
    const sum = sums.get(key) ?? sums.set(key, { events: 0, api_requests: 0, model_runs: 0, genai_ops: 0 }).get(key)!;
    sum[metric] += row.value;
  }
  if (query.groupBy.length === 0) combos.set("{}", {});
  const ordered = [...combos.entries()].sort(([a], [b]) => a.localeCompare(b));
  return buckets.map((start, i) => ({
    ts: isoInZone(start, query.tz),
    values: ordered.map(([comboKey, dims]) => {
      const sum = sums.get(`${i}|${comboKey}`);
      return {
        events: Math.round(sum?.events ?? 0),
        api_requests: Math.round(sum?.api_requests ?? 0),
        model_runs: Math.round(sum?.model_runs ?? 0),
        genai_ops: Math.round(sum?.genai_ops ?? 0),
        dimensions: dims,
      };
    }),
  }));
}

function findBucket(starts: number[], ends: number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (at < starts[mid]!) hi = mid - 1;
    else if (at >= ends[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}
