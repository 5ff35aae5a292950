CREATE TABLE `project_signals` (
	`project_id` text PRIMARY KEY NOT NULL,
	`purchases_version` integer NOT NULL,
	`paths` text NOT NULL,
	`computed_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
