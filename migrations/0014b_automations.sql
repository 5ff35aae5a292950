-- Automations bind a segment to a connector. Each run records who was treated, held out (control)
-- or skipped (no address), in chunks the activations queue delivers; a finished run is the sync log.
CREATE TABLE `automations` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`segment_id` text NOT NULL,
	`connector_id` text NOT NULL,
	`trigger` text NOT NULL,
	`holdout_pct` integer DEFAULT 10 NOT NULL,
	`address` text NOT NULL,
	`message` text,
	`status` text NOT NULL,
	`outcome_window_days` integer DEFAULT 30 NOT NULL,
	`last_scheduled_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `automations_project_idx` ON `automations` (`project_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `automations_org_status_idx` ON `automations` (`organization_id`,`status`);
--> statement-breakpoint
CREATE INDEX `automations_segment_idx` ON `automations` (`segment_id`);
--> statement-breakpoint
CREATE INDEX `automations_connector_idx` ON `automations` (`connector_id`);
--> statement-breakpoint
CREATE TABLE `automation_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`automation_id` text NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`job_id` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`treated_count` integer DEFAULT 0 NOT NULL,
	`control_count` integer DEFAULT 0 NOT NULL,
	`skipped_count` integer DEFAULT 0 NOT NULL,
	`chunk_count` integer DEFAULT 0 NOT NULL,
	`delivered_count` integer DEFAULT 0 NOT NULL,
	`error_message` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`automation_id`) REFERENCES `automations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `automation_runs_automation_idx` ON `automation_runs` (`automation_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `automation_runs_project_idx` ON `automation_runs` (`project_id`,`finished_at`);
--> statement-breakpoint
-- At most one run of an automation at a time.
CREATE UNIQUE INDEX `automation_runs_one_active` ON `automation_runs` (`automation_id`) WHERE status IN ('queued', 'processing');
--> statement-breakpoint
CREATE TABLE `automation_run_members` (
	`run_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`grp` text NOT NULL,
	`chunk` integer,
	`delivered` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_id`, `customer_id`),
	FOREIGN KEY (`run_id`) REFERENCES `automation_runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `automation_run_members_chunk_idx` ON `automation_run_members` (`run_id`,`chunk`);
--> statement-breakpoint
CREATE TABLE `automation_chunks` (
	`run_id` text NOT NULL,
	`chunk` integer NOT NULL,
	`status` text NOT NULL,
	`member_count` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`claimed_at` integer,
	`last_error` text,
	`delivered_at` integer,
	PRIMARY KEY(`run_id`, `chunk`),
	FOREIGN KEY (`run_id`) REFERENCES `automation_runs`(`id`) ON UPDATE no action ON DELETE cascade
);
