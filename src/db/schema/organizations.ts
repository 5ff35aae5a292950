import { sqliteTable, text, integer } from "drizzle-orm/sqlite-core";
import { planIds } from "../../billing/plans";

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  plan: text("plan", { enum: planIds }).notNull().default("free"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});
