import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** `sk_live_` and the first 6 hex digits: shown in listings, and the lookup key for verification */
    keyPrefix: text("key_prefix").notNull(),
    /** hex SHA-256 of the whole key; the key itself is never stored */
    keyHash: text("key_hash").notNull().unique(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("api_keys_prefix_idx").on(t.keyPrefix), index("api_keys_project_idx").on(t.projectId)],
);
