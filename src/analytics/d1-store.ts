import type { AnalyticsStore, UsageDimension, UsageQuery, UsageRow } from "./store";
import type { UsageEvent } from "./schema";

/** Rows per INSERT: one bound JSON parameter carries them all (D1 allows 100 parameters per statement). */
const CHUNK = 500;

const columns: Record<UsageDimension, string> = { type: "type", projectId: "project_id", apiKeyId: "api_key_id", detail: "detail" };

/** The local and test store: `usage_events` in D1, with the same logical columns as Analytics Engine. */
export class D1AnalyticsStore implements AnalyticsStore {
  constructor(private readonly d1: D1Database) {}

  async record(events: UsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < events.length; i += CHUNK) {
      const rows = events
        .slice(i, i + CHUNK)
        .map((e) => [e.organizationId, e.type, e.projectId ?? null, e.apiKeyId ?? null, e.detail ?? null, e.value, e.timestamp ?? now]);
      statements.push(
        this.d1
          .prepare(
            `INSERT INTO usage_events (organization_id, type, project_id, api_key_id, detail, value, timestamp)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?)`,
          )
          .bind(JSON.stringify(rows)),
      );
    }
    await this.d1.batch(statements);
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const slotMs = query.slotMinutes * 60_000;
    const dims = query.dimensions.map((d) => `${columns[d]} AS "${d}"`);
    const where = ["organization_id = ?", "timestamp >= ?", "timestamp < ?"];
    const params: unknown[] = [query.organizationId, query.start, query.end];
    if (query.projectId) {
      where.push("project_id = ?");
      params.push(query.projectId);
    }
    if (query.types?.length) {
      where.push(`type IN (${query.types.map(() => "?").join(", ")})`);
      params.push(...query.types);
    }
    const groups = ["slot", ...query.dimensions.map((d) => `"${d}"`)];
    const { results } = await this.d1
      .prepare(
        `SELECT (timestamp / ${slotMs}) * ${slotMs} AS slot, ${[...dims, "SUM(value) AS value"].join(", ")}
         FROM usage_events WHERE ${where.join(" AND ")} GROUP BY ${groups.join(", ")} ORDER BY slot`,
      )
      .bind(...params)
      .all<UsageRow>();
    return results;
  }
}
