-- CRM analytics read a project's purchase lines from this index alone: the file (so a removed file's
-- customers are found and a refresh reads only new rows, src/crm/read.ts) and `extra` (so a group_by
-- key is one pass over the index, not a table lookup per line). (file_id, row_number) is the key,
-- which makes the order total.
DROP INDEX `transactions_purchase_lines_idx`;--> statement-breakpoint
CREATE INDEX `transactions_purchase_lines_idx` ON `transactions` (`project_id`,`is_return`,`customer_id`,`order_day`,`amount_cents`,`order_id`,`file_id`,`row_number`,`extra`);
