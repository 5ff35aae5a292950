import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { organizations } from "./organizations";

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    /**
     * Bumped by triggers on every change to the project's transactions (migration 0005), so caches
     * derived from them (the PurchaseHistory object of CRM analytics) know when they are stale.
     */
    purchasesVersion: integer("purchases_version").notNull().default(0),
    /**
     * Bumped by triggers on customers (and on segments and their daily sizes), migration 0009, so the
     * organization's AnalyticsWarehouse knows which projects' profiles to copy again.
     */
    customersVersion: integer("customers_version").notNull().default(0),
    segmentsVersion: integer("segments_version").notNull().default(0),
    /**
     * Bumped by the same customers triggers only when an embedding is written or a customer holding one
     * comes or goes (migration 0020), so the project's SimilarityIndex knows when it is stale.
     */
    embeddingsVersion: integer("embeddings_version").notNull().default(0),
  },
  (t) => [index("projects_org_idx").on(t.organizationId)],
);
