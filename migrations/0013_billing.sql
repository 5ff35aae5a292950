-- Billing on Stripe (issue 13). The organization's own `plan` column stays the plan granted outside
-- Stripe (free by default, Enterprise by sales, Pro for the demo); subscriptions add to it.

-- One Stripe customer per organization, and the billing details shown and synced to it.
CREATE TABLE `billing_accounts` (
	`organization_id` text PRIMARY KEY NOT NULL,
	`stripe_customer_id` text,
	`name` text,
	`email` text,
	`tax_id` text,
	`address` text,
	`free_plan_since` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
CREATE UNIQUE INDEX `billing_accounts_customer_unique` ON `billing_accounts` (`stripe_customer_id`);

-- Each Stripe subscription as last seen; `event_created` (Stripe seconds) orders updates, so an
-- event older than the stored state changes nothing.
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`stripe_customer_id` text NOT NULL,
	`plan` text NOT NULL,
	`interval` text NOT NULL,
	`status` text NOT NULL,
	`current_period_start` integer,
	`current_period_end` integer,
	`cancel_at_period_end` integer NOT NULL DEFAULT 0,
	`trial_end` integer,
	`past_due_since` integer,
	`latest_invoice_status` text,
	`invoice_event_created` integer,
	`trial_will_end_at` integer,
	`started_at` integer NOT NULL,
	`event_created` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
CREATE INDEX `subscriptions_org_idx` ON `subscriptions` (`organization_id`, `started_at`);

-- Every webhook event id received, so a replay is answered without effect.
CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`created` integer NOT NULL,
	`organization_id` text,
	`outcome` text NOT NULL,
	`received_at` integer NOT NULL
);

-- The 80% and 100% marks of a quota crossed in a billing period, each recorded once.
CREATE TABLE `usage_thresholds` (
	`organization_id` text NOT NULL,
	`period_start` text NOT NULL,
	`metric` text NOT NULL,
	`threshold` integer NOT NULL,
	`used` real NOT NULL,
	`limit` real NOT NULL,
	`crossed_at` integer NOT NULL,
	PRIMARY KEY(`organization_id`, `period_start`, `metric`, `threshold`),
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
