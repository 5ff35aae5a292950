import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, real, index, primaryKey } from "drizzle-orm/sqlite-core";
import { files } from "./files";
import { projects } from "./projects";

/**
 * One accepted row of a file. Keyed by (file, row), so a redelivered batch inserts nothing twice.
 * Money in integer cents (absolute value; `is_return` says which way it went).
 */
export const transactions = sqliteTable(
  "transactions",
  {
    fileId: text("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    rowNumber: integer("row_number").notNull(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    customerId: text("customer_id").notNull(),
    orderId: text("order_id"),
    /** UTC milliseconds */
    orderedAt: integer("ordered_at").notNull(),
    /** the calendar day as written in the data, YYYY-MM-DD */
    orderDay: text("order_day").notNull(),
    amountCents: integer("amount_cents").notNull(),
    currency: text("currency"),
    quantity: real("quantity"),
    isReturn: integer("is_return", { mode: "boolean" }).notNull(),
    extra: text("extra", { mode: "json" }),
  },
  (t) => [
    primaryKey({ columns: [t.fileId, t.rowNumber] }),
    // file_id: covering for "has the customer rows in another file" (migration 0017b).
    index("transactions_customer_idx").on(t.projectId, t.customerId, t.orderedAt, t.fileId),
    index("transactions_file_customer_idx").on(t.fileId, t.customerId),
    // Covering indexes for analytics over a project's time range (revenue by period, latest day),
    // so 1M-row projects are read in order from the index instead of row by row from the table.
    index("transactions_project_time_idx").on(t.projectId, t.orderedAt, t.isReturn, t.amountCents),
    index("transactions_project_day_idx").on(t.projectId, t.orderDay),
    // The purchase lines of a project in (customer, day) order with all CRM analytics read of them,
    // the file and the extra features included, so the PurchaseHistory reads lines and group_by
    // keys from the index alone (src/crm/read.ts, migration 0017).
    index("transactions_purchase_lines_idx").on(t.projectId, t.isReturn, t.customerId, t.orderDay, t.amountCents, t.orderId, t.fileId, t.rowNumber, t.extra),
    // An order already stored for a customer is not stored again from another file (src/services/transactions.ts).
    index("transactions_order_idx").on(t.projectId, t.customerId, t.orderId, t.fileId).where(sql`order_id IS NOT NULL`),
  ],
);
