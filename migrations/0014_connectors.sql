-- Activation connectors: a project's delivery channels. Non-secret fields in `settings`; secret fields
-- (API keys, tokens, signing secrets) only in `secrets`, each sealed with AES-256-GCM
-- (`v<key version>.<iv>.<ciphertext>`, the connector id and field as associated data).
CREATE TABLE `connectors` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`type` text NOT NULL,
	`name` text NOT NULL,
	`settings` text NOT NULL,
	`secrets` text NOT NULL,
	`last_tested_at` integer,
	`last_test_ok` integer,
	`last_test_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `connectors_project_idx` ON `connectors` (`project_id`,`created_at`);
