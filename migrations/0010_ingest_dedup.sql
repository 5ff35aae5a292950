-- Issue 10: the same content is not ingested twice into a project, nor the same order of a customer.
ALTER TABLE `files` ADD `content_sha256` text;--> statement-breakpoint
-- One live (not failed) file per content in a project; a forced re-upload stores no hash.
CREATE UNIQUE INDEX `files_project_content_unique` ON `files` (`project_id`,`content_sha256`) WHERE status <> 'failed' AND content_sha256 IS NOT NULL;--> statement-breakpoint
-- Finds an order already stored for a customer while a file is written.
CREATE INDEX `transactions_order_idx` ON `transactions` (`project_id`,`customer_id`,`order_id`) WHERE order_id IS NOT NULL;
