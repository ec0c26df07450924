import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Milliseconds since the epoch, set by SQLite so every row agrees on one clock. */
const createdAt = () =>
  integer('created_at', { mode: 'timestamp_ms' }).notNull().default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** As typed at sign-up; uniqueness is case-insensitive through the index below. */
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    /** Messages sent across all rooms, kept in the same transaction as each insert. */
    messageCount: integer('message_count').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_username_lower_unique').on(sql`lower(${t.username})`)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** SHA-256 of the bearer token, hex: a stolen database does not yield usable tokens. */
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('sessions_token_hash_unique').on(t.tokenHash),
    index('sessions_user_id_idx').on(t.userId),
    index('sessions_expires_at_idx').on(t.expiresAt),
  ],
);

export const rooms = sqliteTable(
  'rooms',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** The seq of the newest message; the next insert takes lastSeq + 1 inside its transaction. */
    lastSeq: integer('last_seq').notNull().default(0),
    messageCount: integer('message_count').notNull().default(0),
    lastMessageAt: integer('last_message_at', { mode: 'timestamp_ms' }),
    createdAt: createdAt(),
    /**
     * The room's change counter: every post, edit, delete and reaction change takes the next value
     * inside its transaction. Live event ids are built from it (decision 019).
     */
    lastChange: integer('last_change').notNull().default(0),
    /** Who created the room: they may delete any message in it. Null only if that user is gone. */
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [uniqueIndex('rooms_name_unique').on(t.name)],
);

export const memberships = sqliteTable(
  'memberships',
  {
    roomId: integer('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    joinedAt: integer('joined_at', { mode: 'timestamp_ms' }).notNull(),
    /** Messages this user sent in this room, kept in the same transaction as each insert. */
    messageCount: integer('message_count').notNull().default(0),
    /**
     * The read marker (issue 13): the seq up to which this member has read. Only moves forward; a
     * new member starts at the room's head (decision 020).
     */
    lastReadSeq: integer('last_read_seq').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('memberships_user_id_idx').on(t.userId)],
);

export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    roomId: integer('room_id')
      .notNull()
      .references(() => rooms.id),
    seq: integer('seq').notNull(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    text: text('text').notNull(),
    clientId: text('client_id'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    editedAt: integer('edited_at', { mode: 'timestamp_ms' }),
    /** Set when deleted; the text is then '' (really gone, not hidden). */
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
    /** The seq of the message this one replies to, in the same room. */
    replyTo: integer('reply_to'),
    /** The room change that posted this message (rooms.last_change then): resume reads new posts by it. */
    createdChange: integer('created_change').notNull().default(0),
  },
  (t) => [
    uniqueIndex('messages_room_seq_unique').on(t.roomId, t.seq),
    uniqueIndex('messages_author_client_id_unique').on(t.authorId, t.clientId),
    index('messages_room_created_change_idx').on(t.roomId, t.createdChange),
    index('messages_room_reply_to_idx').on(t.roomId, t.replyTo),
  ],
);

/** One user's reaction with one emoji to one message. `id` orders reactions by first use. */
export const reactions = sqliteTable(
  'reactions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    emoji: text('emoji').notNull(),
  },
  (t) => [uniqueIndex('reactions_message_user_emoji_unique').on(t.messageId, t.userId, t.emoji)],
);

/**
 * The room's change log for everything but posts (posts are found by messages.created_change):
 * which message an edit, delete or reaction change touched, at which room change. Only the newest
 * CHANGE_LOG_LENGTH changes of a room are kept; a client further behind gets `reset` (decision 019).
 */
export const messageChanges = sqliteTable(
  'message_changes',
  {
    roomId: integer('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    change: integer('change').notNull(),
    seq: integer('seq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.change] })],
);

/** Who a message mentions (`@username` of a member when it was posted or last edited). */
export const messageMentions = sqliteTable(
  'message_mentions',
  {
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.userId] }),
    index('message_mentions_user_id_idx').on(t.userId, t.messageId),
  ],
);
