CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`source` text NOT NULL,
	`format` text NOT NULL,
	`filename` text NOT NULL,
	`r2_key` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`row_count` integer,
	`rows_accepted` integer,
	`rows_rejected` integer,
	`status` text NOT NULL,
	`batch_id` text,
	`mapping` text,
	`error_message` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `files_project_idx` ON `files` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `files_org_status_idx` ON `files` (`organization_id`,`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `files_project_batch_unique` ON `files` (`project_id`,`batch_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`pct` integer DEFAULT 0 NOT NULL,
	`message` text,
	`file_id` text,
	`result` text,
	`error_message` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_project_idx` ON `jobs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_one_queued_segmentation` ON `jobs` (`project_id`) WHERE type = 'segmentation' AND status = 'queued';--> statement-breakpoint
CREATE TABLE `transactions` (
	`file_id` text NOT NULL,
	`row_number` integer NOT NULL,
	`project_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`order_id` text,
	`ordered_at` integer NOT NULL,
	`order_day` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`currency` text,
	`quantity` real,
	`is_return` integer NOT NULL,
	`extra` text,
	PRIMARY KEY(`file_id`, `row_number`),
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `transactions_customer_idx` ON `transactions` (`project_id`,`customer_id`,`ordered_at`);--> statement-breakpoint
CREATE INDEX `transactions_file_customer_idx` ON `transactions` (`file_id`,`customer_id`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))) NOT NULL,
	`project_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`first_purchase_at` integer,
	`last_purchase_at` integer,
	`last_transaction_at` integer NOT NULL,
	`frequency` integer NOT NULL,
	`purchase_days` integer NOT NULL,
	`purchases_cents` integer NOT NULL,
	`returns_cents` integer NOT NULL,
	`return_count` integer NOT NULL,
	`monetary_cents` integer NOT NULL,
	`return_rate` real NOT NULL,
	`extra_features` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `customer_id`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customers_id_unique` ON `customers` (`id`);--> statement-breakpoint
CREATE INDEX `customers_project_last_idx` ON `customers` (`project_id`,`last_transaction_at`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`type` text NOT NULL,
	`project_id` text,
	`api_key_id` text,
	`detail` text,
	`value` real NOT NULL,
	`timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_events_org_time_idx` ON `usage_events` (`organization_id`,`timestamp`);