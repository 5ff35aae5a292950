import type { AnalyticsStore } from "./store";
import type { UsageEvent } from "./schema";

/** Rows per INSERT: one bound JSON parameter carries them all (D1 allows 100 parameters per statement). */
const CHUNK = 500;

export class D1AnalyticsStore implements AnalyticsStore {
  constructor(private readonly db: D1Database) {}

  async record(events: UsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < events.length; i += CHUNK) {
      const rows = events
        .slice(i, i + CHUNK)
        .map((e) => [e.organizationId, e.type, e.projectId ?? null, e.apiKeyId ?? null, e.detail ?? null, e.value, e.timestamp ?? now]);
      statements.push(
        this.db
          .prepare(
            `INSERT INTO usage_events (organization_id, type, project_id, api_key_id, detail, value, timestamp)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?)`,
          )
          .bind(JSON.stringify(rows)),
      );
    }
    await this.db.batch(statements);
  }
}
