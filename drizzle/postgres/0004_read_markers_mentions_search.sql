CREATE TABLE "message_mentions" (
	"message_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	CONSTRAINT "message_mentions_message_id_user_id_pk" PRIMARY KEY("message_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "memberships" ADD COLUMN "last_read_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "message_mentions" ADD CONSTRAINT "message_mentions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_mentions" ADD CONSTRAINT "message_mentions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "message_mentions_user_id_idx" ON "message_mentions" USING btree ("user_id","message_id");--> statement-breakpoint
-- Hand-written (decision 020). Existing members have read everything so far: without this, the first
-- start after the upgrade would show every room's whole history as unread.
UPDATE "memberships" AS ms SET "last_read_seq" = r."last_seq" FROM "rooms" AS r WHERE r."id" = ms."room_id";--> statement-breakpoint
-- Full-text search: a generated tsvector with a GIN index. Generated, so every post, edit and delete
-- updates it in its own statement; a deleted message's text is '' and matches nothing. Not in
-- schema-pg.ts: nothing reads the column through Drizzle, and db:copy must not write it.
-- Made to find what SQLite's FTS5 (unicode61, remove_diacritics 2) finds, so both backends agree:
-- - every run of non-alphanumerics becomes a space first: the default parser would otherwise keep
--   "example.com", "a@b.de" or "1.5" as single lexemes, and "example" would not find them;
-- - 'atlas_search' is 'simple' (no stemming, no stop words) behind the unaccent dictionary, so
--   "cafe" finds "Café" as on SQLite. unaccent ships with PostgreSQL (contrib) and is a trusted
--   extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS "unaccent";--> statement-breakpoint
CREATE TEXT SEARCH CONFIGURATION "atlas_search" (COPY = "simple");--> statement-breakpoint
ALTER TEXT SEARCH CONFIGURATION "atlas_search" ALTER MAPPING FOR "asciiword", "word", "numword", "asciihword", "hword", "numhword", "hword_asciipart", "hword_part", "hword_numpart" WITH "unaccent", "simple";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (to_tsvector('atlas_search'::regconfig, regexp_replace("text", '[^[:alnum:]]+', ' ', 'g'))) STORED;--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin ("search");
