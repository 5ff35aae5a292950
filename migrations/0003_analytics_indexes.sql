CREATE INDEX `transactions_project_time_idx` ON `transactions` (`project_id`,`ordered_at`,`is_return`,`amount_cents`);--> statement-breakpoint
CREATE INDEX `transactions_project_day_idx` ON `transactions` (`project_id`,`order_day`);--> statement-breakpoint
CREATE INDEX `transactions_project_customer_day_idx` ON `transactions` (`project_id`,`customer_id`,`is_return`,`order_day`,`amount_cents`);--> statement-breakpoint
CREATE INDEX `usage_events_org_type_time_idx` ON `usage_events` (`organization_id`,`type`,`timestamp`);