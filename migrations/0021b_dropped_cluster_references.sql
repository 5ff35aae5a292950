-- When a model run no longer finds a cluster that automations or hybrid segments use, they say so.
-- Why an automation was paused by the system (null when a person set its status).
ALTER TABLE `automations` ADD `status_reason` text;--> statement-breakpoint
-- When the cluster a hybrid segment narrows was dropped by a model run (null while it exists).
ALTER TABLE `segments` ADD `cluster_missing_at` integer;
