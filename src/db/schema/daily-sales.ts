import { sqliteTable, text, integer, real, index, primaryKey } from "drizzle-orm/sqlite-core";
import { files } from "./files";
import { projects } from "./projects";

/**
 * Sales per day of each file, written by the ingest consumer from the file's own rows (so a rerun
 * writes the same rows) and gone with the file. Summed per day it is the star schema's
 * fact_daily_sales: a time series of a million transactions read from a few thousand rows.
 */
export const dailySales = sqliteTable(
  "daily_sales",
  {
    fileId: text("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** YYYY-MM-DD as written in the data */
    day: text("day").notNull(),
    /** purchase orders: distinct order ids (a line without one is an order) */
    orders: integer("orders").notNull(),
    purchaseLines: integer("purchase_lines").notNull(),
    revenueCents: integer("revenue_cents").notNull(),
    returnLines: integer("return_lines").notNull(),
    returnsCents: integer("returns_cents").notNull(),
    /** purchased quantity, where the data had one */
    quantity: real("quantity"),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.day] }), index("daily_sales_project_day_idx").on(t.projectId, t.day)],
);
