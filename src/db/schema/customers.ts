import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, real, primaryKey, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

/**
 * Per-customer aggregates of a project's transactions, recomputed from `transactions` for the customers
 * a batch touched (so re-running a batch cannot double-count). The engine adds its scores to these rows.
 */
export const customers = sqliteTable(
  "customers",
  {
    /** the API's id for the customer (a UUID): the tenant's own customer_id is only unique per project */
    id: text("id")
      .notNull()
      .default(sql`(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))`),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    customerId: text("customer_id").notNull(),
    firstPurchaseAt: integer("first_purchase_at"),
    lastPurchaseAt: integer("last_purchase_at"),
    lastTransactionAt: integer("last_transaction_at").notNull(),
    /** purchase orders (distinct order ids, or rows when the data has none) */
    frequency: integer("frequency").notNull(),
    /** distinct calendar days with a purchase: BG/NBD counts repeat purchases per day */
    purchaseDays: integer("purchase_days").notNull(),
    purchasesCents: integer("purchases_cents").notNull(),
    returnsCents: integer("returns_cents").notNull(),
    returnCount: integer("return_count").notNull(),
    /** purchases minus returns */
    monetaryCents: integer("monetary_cents").notNull(),
    returnRate: real("return_rate").notNull(),
    /** the extra columns of the customer's latest transaction */
    extraFeatures: text("extra_features", { mode: "json" }),
    updatedAt: integer("updated_at").notNull(),
    // The engine's scores, written by the segmentation job (null until its first run).
    rfmRecencyDays: integer("rfm_recency_days"),
    /** 1 − P(alive) from the project's BG/NBD model */
    churnScore: real("churn_score"),
    churnRisk: text("churn_risk", { enum: ["low", "medium", "high"] }),
    expectedPurchases90d: real("expected_purchases_90d"),
    abcCategory: text("abc_category", { enum: ["A", "B", "C"] }),
    upliftScore: real("uplift_score"),
    segmentId: text("segment_id"),
    segmentLabel: text("segment_label"),
    /** JSON array: the standardized feature vector similar customers are found by */
    embedding: text("embedding"),
    profiledAt: integer("profiled_at"),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.customerId] }),
    uniqueIndex("customers_id_unique").on(t.id),
    index("customers_project_last_idx").on(t.projectId, t.lastTransactionAt),
    index("customers_project_segment_idx").on(t.projectId, t.segmentId),
    index("customers_project_monetary_idx").on(t.projectId, t.monetaryCents),
  ],
);
