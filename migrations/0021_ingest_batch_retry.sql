-- A failed API batch may be sent again under its batch_id: only live (not failed) files hold their batch id.
DROP INDEX IF EXISTS `files_project_batch_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `files_project_batch_unique` ON `files` (`project_id`,`batch_id`) WHERE status <> 'failed' AND batch_id IS NOT NULL;--> statement-breakpoint
-- Hex SHA-256 of an API batch's canonical payload: a different payload under an accepted batch_id is refused.
ALTER TABLE `files` ADD `payload_sha256` text;
