-- The per-organization AnalyticsWarehouse copies each project's rows from D1 and needs to know, from
-- D1 alone, when they changed. Transactions already bump projects.purchases_version (migration 0005);
-- these counters do the same for the profile tables, whoever writes them (ingest's aggregates, the
-- model run, segment edits, file deletion, cascades).
ALTER TABLE `projects` ADD `customers_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `segments_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE TRIGGER `customers_insert_warehouse` AFTER INSERT ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1 WHERE `id` = NEW.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `customers_update_warehouse` AFTER UPDATE ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1 WHERE `id` IN (OLD.`project_id`, NEW.`project_id`);
END;--> statement-breakpoint
CREATE TRIGGER `customers_delete_warehouse` AFTER DELETE ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1 WHERE `id` = OLD.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `segments_insert_warehouse` AFTER INSERT ON `segments` BEGIN
  UPDATE `projects` SET `segments_version` = `segments_version` + 1 WHERE `id` = NEW.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `segments_update_warehouse` AFTER UPDATE ON `segments` BEGIN
  UPDATE `projects` SET `segments_version` = `segments_version` + 1 WHERE `id` IN (OLD.`project_id`, NEW.`project_id`);
END;--> statement-breakpoint
CREATE TRIGGER `segments_delete_warehouse` AFTER DELETE ON `segments` BEGIN
  UPDATE `projects` SET `segments_version` = `segments_version` + 1 WHERE `id` = OLD.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `segment_sizes_insert_warehouse` AFTER INSERT ON `segment_daily_sizes` BEGIN
  UPDATE `projects` SET `segments_version` = `segments_version` + 1 WHERE `id` = NEW.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `segment_sizes_delete_warehouse` AFTER DELETE ON `segment_daily_sizes` BEGIN
  UPDATE `projects` SET `segments_version` = `segments_version` + 1 WHERE `id` = OLD.`project_id`;
END;--> statement-breakpoint
-- Memberships are written a day at a time (a run replaces today's snapshot and prunes old days), so
-- one bump per day written is enough: the sizes of the same day are written by the same run.
UPDATE `projects` SET `customers_version` = 1, `segments_version` = 1;
