import type { AnalyticsStore, UsageDimension, UsageQuery, UsageRow } from "./store";
import { aeColumns, toDataPoint, type UsageEvent } from "./schema";

export type AnalyticsEngineConfig = {
  accountId: string;
  apiToken: string;
  dataset: string;
  /** injectable for tests; the global fetch otherwise */
  fetch?: typeof fetch;
};

/** Every id we put in a query matches this; anything else is refused before it reaches SQL. */
const SAFE_VALUE = /^[A-Za-z0-9_.:\-]{1,128}$/;
const SAFE_DATASET = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A string literal for the Analytics Engine SQL API, escaped, for values already checked against SAFE_VALUE. */
function literal(value: string): string {
  if (!SAFE_VALUE.test(value)) throw new Error("refusing an unexpected value in an Analytics Engine query");
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

export class AnalyticsEngineError extends Error {}

/**
 * Analytics Engine: writes are data points on the binding (index = organization); reads go to the
 * Analytics Engine SQL API. Counts and sums are weighted by `_sample_interval`, since AE samples under
 * load. Column names come from `aeColumns`, the same map the writes use.
 */
export class AnalyticsEngineStore implements AnalyticsStore {
  constructor(
    private readonly dataset: AnalyticsEngineDataset,
    private readonly config: AnalyticsEngineConfig,
  ) {
    if (!SAFE_DATASET.test(config.dataset)) throw new Error("invalid Analytics Engine dataset name");
  }

  async record(events: UsageEvent[]): Promise<void> {
    for (const event of events) this.dataset.writeDataPoint(toDataPoint(event));
  }

  usageSql(query: UsageQuery): string {
    const slotSeconds = Math.round(query.slotMinutes * 60);
    const dims = query.dimensions.map((d: UsageDimension) => `${aeColumns[d]} AS ${d}`);
    const where = [
      `index1 = ${literal(query.organizationId)}`,
      `timestamp >= toDateTime(${Math.floor(query.start / 1000)})`,
      `timestamp < toDateTime(${Math.floor(query.end / 1000)})`,
    ];
    if (query.projectId) where.push(`${aeColumns.projectId} = ${literal(query.projectId)}`);
    if (query.types?.length) where.push(`${aeColumns.type} IN (${query.types.map(literal).join(", ")})`);
    return [
      `SELECT intDiv(toUInt32(timestamp), ${slotSeconds}) * ${slotSeconds} AS slot, ${[...dims, `SUM(_sample_interval * ${aeColumns.value}) AS value`].join(", ")}`,
      `FROM ${this.config.dataset}`,
      `WHERE ${where.join(" AND ")}`,
      `GROUP BY ${["slot", ...query.dimensions].join(", ")}`,
      "ORDER BY slot",
      "FORMAT JSON",
    ].join("\n");
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const doFetch = this.config.fetch ?? fetch;
    const response = await doFetch(`https://api.cloudflare.com/client/v4/accounts/${encodeURIComponent(this.config.accountId)}/analytics_engine/sql`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.config.apiToken}` },
      body: this.usageSql(query),
    });
    if (!response.ok) throw new AnalyticsEngineError(`Analytics Engine SQL API answered ${response.status}`);
    const body = (await response.json()) as { data?: Array<Record<string, unknown>> };
    return (body.data ?? []).map((row) => {
      const out: UsageRow = { slot: Number(row.slot) * 1000, value: Number(row.value) };
      for (const d of query.dimensions) {
        const v = row[d];
        out[d] = v === "" || v === undefined || v === null ? null : String(v);
      }
      return out;
    });
  }
}
