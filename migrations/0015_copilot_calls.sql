-- One row per copilot call: the log behind GET /api/analytics/copilot. The prompt is the tenant's
-- data, so it lives with the project and goes with it (ON DELETE CASCADE).
CREATE TABLE `copilot_calls` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`project_id` text NOT NULL,
	`user_id` text,
	`api_key_id` text,
	`status` text NOT NULL,
	`error_code` text,
	`engine` text NOT NULL,
	`model` text NOT NULL,
	`latency_ms` integer NOT NULL,
	`prompt` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `copilot_calls_project_time_idx` ON `copilot_calls` (`project_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `copilot_calls_org_time_idx` ON `copilot_calls` (`organization_id`,`created_at`);
