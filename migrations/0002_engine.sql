CREATE TABLE `segment_daily_sizes` (
	`project_id` text NOT NULL,
	`segment_id` text NOT NULL,
	`day` text NOT NULL,
	`size` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `day`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `segment_sizes_project_day_idx` ON `segment_daily_sizes` (`project_id`,`day`);--> statement-breakpoint
CREATE TABLE `segment_membership_snapshots` (
	`project_id` text NOT NULL,
	`snapshot_date` text NOT NULL,
	`segment_id` text NOT NULL,
	`customer_id` text NOT NULL,
	PRIMARY KEY(`segment_id`, `snapshot_date`, `customer_id`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `snapshots_project_date_customer_idx` ON `segment_membership_snapshots` (`project_id`,`snapshot_date`,`customer_id`);--> statement-breakpoint
CREATE TABLE `segment_overlaps` (
	`project_id` text NOT NULL,
	`day` text NOT NULL,
	`segment_a_id` text NOT NULL,
	`segment_b_id` text NOT NULL,
	`overlap` integer NOT NULL,
	PRIMARY KEY(`project_id`, `day`, `segment_a_id`, `segment_b_id`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`rules` text,
	`cluster_segment_id` text,
	`size` integer DEFAULT 0 NOT NULL,
	`centroid` text,
	`position` text,
	`last_computed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `segments_project_idx` ON `segments` (`project_id`,`kind`);--> statement-breakpoint
CREATE TABLE `usage_counters` (
	`organization_id` text NOT NULL,
	`period` text NOT NULL,
	`model_runs` integer DEFAULT 0 NOT NULL,
	`genai_ops` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`organization_id`, `period`)
);
--> statement-breakpoint
ALTER TABLE `customers` ADD `rfm_recency_days` integer;--> statement-breakpoint
ALTER TABLE `customers` ADD `churn_score` real;--> statement-breakpoint
ALTER TABLE `customers` ADD `churn_risk` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `expected_purchases_90d` real;--> statement-breakpoint
ALTER TABLE `customers` ADD `abc_category` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `uplift_score` real;--> statement-breakpoint
ALTER TABLE `customers` ADD `segment_id` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `segment_label` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `embedding` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `profiled_at` integer;--> statement-breakpoint
CREATE INDEX `customers_project_segment_idx` ON `customers` (`project_id`,`segment_id`);--> statement-breakpoint
CREATE INDEX `customers_project_monetary_idx` ON `customers` (`project_id`,`monetary_cents`);