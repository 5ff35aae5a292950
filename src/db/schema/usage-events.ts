import { sqliteTable, text, integer, real, index } from "drizzle-orm/sqlite-core";

/**
 * The D1 analytics store's event table (local and tests): the same logical columns the Analytics
 * Engine store writes as blobs and doubles (see src/analytics/schema.ts).
 */
export const usageEvents = sqliteTable(
  "usage_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id").notNull(),
    type: text("type").notNull(),
    projectId: text("project_id"),
    apiKeyId: text("api_key_id"),
    detail: text("detail"),
    value: real("value").notNull(),
    /** UTC milliseconds */
    timestamp: integer("timestamp").notNull(),
  },
  (t) => [index("usage_events_org_time_idx").on(t.organizationId, t.timestamp), index("usage_events_org_type_time_idx").on(t.organizationId, t.type, t.timestamp)],
);
