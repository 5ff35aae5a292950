-- With the file in transactions_purchase_lines_idx (0017), SQLite would answer ingest's "is this order
-- already stored from another file" (src/services/transactions.ts) by scanning the project's lines
-- in that covering index rather than probing this one, which needed the table for file_id: measured
-- minutes for a 10,000-row ingest into a 1M-row project. Carrying the file makes this one covering too.
DROP INDEX `transactions_order_idx`;--> statement-breakpoint
CREATE INDEX `transactions_order_idx` ON `transactions` (`project_id`,`customer_id`,`order_id`,`file_id`) WHERE order_id IS NOT NULL;
--> statement-breakpoint
-- The same for "does the customer have rows in another file" when a file is removed.
DROP INDEX `transactions_customer_idx`;--> statement-breakpoint
CREATE INDEX `transactions_customer_idx` ON `transactions` (`project_id`,`customer_id`,`ordered_at`,`file_id`);
