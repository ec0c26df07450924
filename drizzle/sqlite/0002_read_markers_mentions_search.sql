CREATE TABLE `message_mentions` (
	`message_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	PRIMARY KEY(`message_id`, `user_id`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `message_mentions_user_id_idx` ON `message_mentions` (`user_id`,`message_id`);--> statement-breakpoint
ALTER TABLE `memberships` ADD `last_read_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Hand-written (decision 020). Existing members have read everything so far: without this, the first
-- start after the upgrade would show every room's whole history as unread.
UPDATE `memberships` SET `last_read_seq` = (SELECT `r`.`last_seq` FROM `rooms` `r` WHERE `r`.`id` = `memberships`.`room_id`);--> statement-breakpoint
-- Full-text search: an external-content FTS5 index over messages.text (no second copy of the text),
-- kept in sync by triggers, so inside the same transaction as every post, edit and delete. A deleted
-- message's text is '' and so leaves the index; an edited one is found by its new text only.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(`text`, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO `messages_fts` (`rowid`, `text`) VALUES (new.`id`, new.`text`);
END;--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF `text` ON `messages` BEGIN
  INSERT INTO `messages_fts` (`messages_fts`, `rowid`, `text`) VALUES ('delete', old.`id`, old.`text`);
  INSERT INTO `messages_fts` (`rowid`, `text`) VALUES (new.`id`, new.`text`);
END;--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO `messages_fts` (`messages_fts`, `rowid`, `text`) VALUES ('delete', old.`id`, old.`text`);
END;--> statement-breakpoint
INSERT INTO `messages_fts` (`messages_fts`) VALUES ('rebuild');
