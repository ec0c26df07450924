CREATE TABLE `message_changes` (
	`room_id` integer NOT NULL,
	`change` integer NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`room_id`, `change`),
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `reactions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`emoji` text NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reactions_message_user_emoji_unique` ON `reactions` (`message_id`,`user_id`,`emoji`);--> statement-breakpoint
ALTER TABLE `messages` ADD `edited_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `deleted_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `reply_to` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `created_change` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_room_created_change_idx` ON `messages` (`room_id`,`created_change`);--> statement-breakpoint
CREATE INDEX `messages_room_reply_to_idx` ON `messages` (`room_id`,`reply_to`);--> statement-breakpoint
ALTER TABLE `rooms` ADD `last_change` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `created_by` integer REFERENCES users(id) ON DELETE SET NULL;--> statement-breakpoint
-- Hand-written backfill (decision 019): before this migration every change was a post, so a room's
-- change counter equals its last seq and each message was posted at the change numbered by its seq.
-- That is also why live event ids issued before it (a plain seq) keep resuming exactly.
UPDATE `messages` SET `created_change` = `seq`;--> statement-breakpoint
UPDATE `rooms` SET `last_change` = `last_seq`;--> statement-breakpoint
-- The room's creator was never stored: its first member is the best evidence of who created it.
UPDATE `rooms` SET `created_by` = (
  SELECT `m`.`user_id` FROM `memberships` `m` WHERE `m`.`room_id` = `rooms`.`id`
  ORDER BY `m`.`joined_at`, `m`.`user_id` LIMIT 1
);