-- Every change to a project's transactions bumps projects.purchases_version, whoever makes it (ingest,
-- file deletion, the dead-letter cleanup, cascades), so caches of the purchase history cannot miss one.
CREATE TRIGGER `transactions_insert_version` AFTER INSERT ON `transactions` BEGIN
  UPDATE `projects` SET `purchases_version` = `purchases_version` + 1 WHERE `id` = NEW.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `transactions_update_version` AFTER UPDATE ON `transactions` BEGIN
  UPDATE `projects` SET `purchases_version` = `purchases_version` + 1 WHERE `id` IN (OLD.`project_id`, NEW.`project_id`);
END;--> statement-breakpoint
CREATE TRIGGER `transactions_delete_version` AFTER DELETE ON `transactions` BEGIN
  UPDATE `projects` SET `purchases_version` = `purchases_version` + 1 WHERE `id` = OLD.`project_id`;
END;
--> statement-breakpoint
-- Projects that already have transactions start at version 1 (0 means "never had a purchase line").
UPDATE `projects` SET `purchases_version` = 1 WHERE `purchases_version` = 0 AND `id` IN (SELECT DISTINCT `project_id` FROM `transactions`);
