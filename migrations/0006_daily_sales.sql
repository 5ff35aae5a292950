CREATE TABLE `daily_sales` (
	`file_id` text NOT NULL,
	`project_id` text NOT NULL,
	`day` text NOT NULL,
	`orders` integer NOT NULL,
	`purchase_lines` integer NOT NULL,
	`revenue_cents` integer NOT NULL,
	`return_lines` integer NOT NULL,
	`returns_cents` integer NOT NULL,
	`quantity` real,
	PRIMARY KEY(`file_id`, `day`),
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `daily_sales_project_day_idx` ON `daily_sales` (`project_id`,`day`);--> statement-breakpoint
-- Backfill from the transactions already stored (the ingest consumer writes it from now on; the
-- SELECT is the one of src/services/transactions.ts).
INSERT INTO `daily_sales` (`file_id`, `project_id`, `day`, `orders`, `purchase_lines`, `revenue_cents`, `return_lines`, `returns_cents`, `quantity`)
SELECT file_id, project_id, order_day,
    COUNT(DISTINCT CASE WHEN is_return = 0 THEN json_array(customer_id, COALESCE(order_id, ':' || row_number)) END),
    SUM(is_return = 0), COALESCE(SUM(CASE WHEN is_return = 0 THEN amount_cents END), 0),
    SUM(is_return = 1), COALESCE(SUM(CASE WHEN is_return = 1 THEN amount_cents END), 0),
    SUM(CASE WHEN is_return = 0 THEN quantity END)
  FROM transactions GROUP BY file_id, project_id, order_day;
