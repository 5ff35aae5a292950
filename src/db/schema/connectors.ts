import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { channelTypes } from "../../activations/channels/channel";
import { projects } from "./projects";

/**
 * A project's delivery channel for activations. `settings` holds the non-secret fields; `secrets` maps
 * each secret field to its sealed value (src/lib/secret-box.ts), never the plaintext.
 */
export const connectors = sqliteTable(
  "connectors",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    organizationId: text("organization_id").notNull(),
    type: text("type", { enum: channelTypes }).notNull(),
    name: text("name").notNull(),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    secrets: text("secrets", { mode: "json" }).$type<Record<string, string>>().notNull(),
    lastTestedAt: integer("last_tested_at", { mode: "timestamp_ms" }),
    lastTestOk: integer("last_test_ok", { mode: "boolean" }),
    lastTestError: text("last_test_error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("connectors_project_idx").on(t.projectId, t.createdAt)],
);
