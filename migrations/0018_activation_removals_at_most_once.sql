-- Issue 14: removals to list channels, and at-most-once delivery for per-member channels.
-- The address a run sent each member to (the channel's address field at the time), carried to the
-- runs after it, so a member who left the segment is removed from the list by the address it was added
-- with, even once their customer row is gone or their address changed.
ALTER TABLE `automation_run_members` ADD `address` text;
--> statement-breakpoint
-- Members of per-member channels (email, SMS) whose send was attempted but whose outcome is unknown
-- (the consumer stopped between the provider's call and its record): never sent again, reported.
ALTER TABLE `automation_runs` ADD `delivery_unknown_count` integer DEFAULT 0 NOT NULL;
