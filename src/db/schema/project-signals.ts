import { sqliteTable, text, integer } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

/**
 * The JSON paths of a project's customers' extra_features with their observed types, as computed at
 * `purchases_version` (customers' extra features only change with the transactions). Read while the
 * project's version is unchanged, computed again once it moves.
 */
export const projectSignals = sqliteTable("project_signals", {
  projectId: text("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  purchasesVersion: integer("purchases_version").notNull(),
  /** [{path, types: [{type, customers}]}] */
  paths: text("paths", { mode: "json" }).notNull(),
  computedAt: integer("computed_at", { mode: "timestamp_ms" }).notNull(),
});
