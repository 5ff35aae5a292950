-- The similarity index of a project (the SimilarityIndex Durable Object) holds the project's embeddings
-- and needs to know, from D1 alone, when they changed: a model run writing them, a customer with one
-- removed (file deletion, cascades). customers_version (migration 0009) moves on every change, ingest's
-- aggregates and uplift scores included, which would throw the index away for nothing; this counter
-- moves only with the embeddings. The warehouse triggers are rewritten to bump both in their one
-- UPDATE, so a model run's 500,000 row updates cost no extra statement each.
ALTER TABLE `projects` ADD `embeddings_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
DROP TRIGGER `customers_insert_warehouse`;--> statement-breakpoint
DROP TRIGGER `customers_update_warehouse`;--> statement-breakpoint
DROP TRIGGER `customers_delete_warehouse`;--> statement-breakpoint
CREATE TRIGGER `customers_insert_warehouse` AFTER INSERT ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1,
    `embeddings_version` = `embeddings_version` + (NEW.`embedding` IS NOT NULL)
  WHERE `id` = NEW.`project_id`;
END;--> statement-breakpoint
CREATE TRIGGER `customers_update_warehouse` AFTER UPDATE ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1,
    `embeddings_version` = `embeddings_version` + (OLD.`embedding` IS NOT NEW.`embedding` OR OLD.`project_id` IS NOT NEW.`project_id` OR OLD.`customer_id` IS NOT NEW.`customer_id`)
  WHERE `id` IN (OLD.`project_id`, NEW.`project_id`);
END;--> statement-breakpoint
CREATE TRIGGER `customers_delete_warehouse` AFTER DELETE ON `customers` BEGIN
  UPDATE `projects` SET `customers_version` = `customers_version` + 1,
    `embeddings_version` = `embeddings_version` + (OLD.`embedding` IS NOT NULL)
  WHERE `id` = OLD.`project_id`;
END;--> statement-breakpoint
-- Indexes built before this migration are built again once.
UPDATE `projects` SET `embeddings_version` = 1;
