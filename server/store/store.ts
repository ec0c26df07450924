import type { MessageDto, ReplyPreview, RoomSummary } from '../schemas.ts';
import type { CountKey, KeysetPage, KeysetRequest, MemberKey, RoomActivityKey } from './keyset-page.ts';

export type { MessageDto, ReplyPreview, RoomSummary };

/**
 * The storage of atlas-chat, as the routers, the live layer and the context see it: plain rows and
 * DTOs (dates as Date unless the API's own DTO says ISO string), async, grouped by aggregate. One
 * implementation per backend (server/store/sqlite, server/store/postgres); both pass
 * tests/store-contract.test.ts, so a caller cannot tell them apart. Nothing here exposes a dialect,
 * a Drizzle database or a prepared statement.
 *
 * Errors: a database that cannot be reached rejects with StoreUnavailableError (errors.ts), which the
 * API answers with 503. Anything else is a bug or a broken invariant and rejects with the driver's
 * own error (never with the query's parameters attached: they hold password and token hashes).
 */
/**
 * How many changes of a room the change log keeps (decision 019): a live client further behind than
 * this is told to reset. Pruned inside each change's own transaction.
 */
export const CHANGE_LOG_LENGTH = 1000;

export interface Store {
  /** 'sqlite ./data/atlas-chat.db' or 'postgres 127.0.0.1:5432/atlas' (never a password): for logs. */
  readonly description: string;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly rooms: RoomStore;
  readonly messages: MessageStore;
  readonly stats: StatsStore;
  /** Resolves when the database answers a trivial query: /healthz. */
  ping(): Promise<void>;
  /** Releases the database (SQLite: checkpoints the WAL; PostgreSQL: ends the pool). Idempotent. */
  close(): Promise<void>;
}

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string;
}

export interface UserStore {
  /** Case-insensitive (ASCII letters, like every allowed username character). */
  findByUsername(username: string): Promise<UserRow | undefined>;
  /** Inserts a user, or resolves undefined when the name is taken in any letter case. */
  insert(username: string, passwordHash: string): Promise<UserRow | undefined>;
  /**
   * Sign-up: inserts the user and their first session in one transaction, so a failure between
   * the two cannot leave an account its owner never got a session for (and whose name a retry
   * would find taken). Resolves undefined, storing nothing, when the name is taken.
   */
  insertWithSession(
    username: string,
    passwordHash: string,
    session: { tokenHash: string; expiresAt: Date },
  ): Promise<UserRow | undefined>;
  setPasswordHash(userId: number, passwordHash: string): Promise<void>;
  /**
   * Sets a new password hash and ends every session of the user but `keepSessionId`, in one
   * transaction; resolves to the ids ended, ascending (their live connections are to be closed).
   */
  changePassword(userId: number, passwordHash: string, keepSessionId: number | undefined): Promise<number[]>;
}

export interface SessionUser {
  id: number;
  username: string;
}

export interface SessionStore {
  /** Resolves to the new session's id. */
  insert(userId: number, tokenHash: string, expiresAt: Date): Promise<number>;
  /** The user behind a token hash, when the session exists and expires after `now`. */
  findUser(tokenHash: string, now: Date): Promise<{ sessionId: number; user: SessionUser } | undefined>;
  /** Whether the session exists and expires after `now` (a live socket's check before each call). */
  isActive(sessionId: number, now: Date): Promise<boolean>;
  delete(sessionId: number): Promise<void>;
  /** Ends every session of a user (but one, e.g. the caller's own); resolves to the ids ended, ascending. */
  deleteForUser(userId: number, options?: { exceptSessionId?: number }): Promise<number[]>;
  /** Ends the sessions that expired at or before `now`; resolves to their ids, ascending. */
  deleteExpired(now: Date): Promise<number[]>;
}

export interface RoomRow {
  id: number;
  name: string;
}

export interface MemberRow {
  username: string;
  joinedAt: Date;
  messageCount: number;
}

export interface RoomStore {
  find(name: string): Promise<RoomRow | undefined>;
  summary(roomId: number): Promise<RoomSummary | undefined>;
  /** A page of rooms, most recently active first; rooms without messages last, by name (byte order). */
  list(page: KeysetRequest<RoomActivityKey>): Promise<KeysetPage<RoomSummary, RoomActivityKey>>;
  /**
   * Creates the room if it does not exist and makes the user a member, in one transaction. Joining
   * again is harmless: the original join time is kept. With `maxRooms`, creating a room while that
   * many exist rejects with RoomLimitError (checked inside the transaction, so parallel joins from
   * any number of processes cannot overshoot); joining an existing room always works.
   */
  join(userId: number, name: string, now: Date, maxRooms?: number): Promise<{ room: RoomRow; created: boolean }>;
  isMember(roomId: number, userId: number): Promise<boolean>;
  /** A page of members in join order, then by username. */
  members(roomId: number, page: KeysetRequest<MemberKey>): Promise<KeysetPage<MemberRow, MemberKey>>;
  /** The seq of the room's newest message (0 before the first); rejects for an unknown room. */
  lastSeq(roomId: number): Promise<number>;
  /**
   * The newest seq of each named room that exists, in one query (the shared bus's head check over
   * every room an instance has subscribers in). Unknown names are left out.
   */
  lastSeqs(names: readonly string[]): Promise<Map<string, number>>;
  /** The room's change counter (decision 019): 0 before anything happened; rejects for an unknown room. */
  lastChange(roomId: number): Promise<number>;
  /** lastChange of each named room that exists, in one query (the shared bus's head check). */
  lastChanges(names: readonly string[]): Promise<Map<string, number>>;
  /** The id of the user who created the room (null if unknown): they may delete any message in it. */
  creator(roomId: number): Promise<number | null>;
  /**
   * The rooms a user is a member of, with their unread and mention counts (issue 13), most recent
   * activity first (rooms without messages last, by name). Counts stop at UNREAD_COUNT_CAP.
   */
  mine(userId: number): Promise<MyRoom[]>;
  /** One of the user's rooms, as in mine(); undefined when not a member. */
  myRoom(roomId: number, userId: number): Promise<MyRoom | undefined>;
  /**
   * Moves the member's read marker forward to `seq`, clamped to the room's head; never back. Resolves
   * to the marker after the call, or undefined when the user is not a member.
   */
  markRead(roomId: number, userId: number, seq: number): Promise<number | undefined>;
  /** Ends the membership (read marker and member count go with it); false when there was none. */
  leave(roomId: number, userId: number): Promise<boolean>;
  /** The user ids of the members among these usernames (case-insensitive), canonical names. */
  membersNamed(roomId: number, usernames: readonly string[]): Promise<SessionUser[]>;
}

/**
 * Unread and mention counts stop here (the web app shows "999+"): counting is an index range scan
 * per room, and a member who never reads a busy room must not make every call of theirs slower.
 */
export const UNREAD_COUNT_CAP = 1000;

export interface MyRoom {
  name: string;
  /** Messages after lastReadSeq, not by this user, not deleted (at most UNREAD_COUNT_CAP). */
  unreadCount: number;
  /** Of those, the ones that mention this user. */
  mentionCount: number;
  lastReadSeq: number;
  lastSeq: number;
  /** ISO time of the newest message, null before the first. */
  lastMessageAt: string | null;
}

export interface PageRequest {
  before?: number | undefined;
  after?: number | undefined;
  /** A page centred on this seq (issue 13): about half older, the seq itself, the rest newer. */
  around?: number | undefined;
  limit: number;
}

export interface MessagePage {
  messages: MessageDto[];
  hasMore: boolean;
  /** With `around` only: whether older, and newer, messages exist beyond the page. */
  hasMoreBefore?: boolean;
  hasMoreAfter?: boolean;
}

export interface SearchRequest {
  /** The user's words, as typed: never handed to the full-text engine as query syntax. */
  query: string;
  userId: number;
  /** Only this room (any room: rooms are readable by every user); otherwise the user's rooms. */
  roomId?: number | undefined;
  /** Only messages older than this message id (the previous page's last result). */
  beforeId?: number | undefined;
  limit: number;
}

export interface SearchResult {
  message: MessageDto;
  /** The message's text, HTML-escaped, with the matched words in <mark>…</mark>. */
  snippet: string;
}

export interface SearchPage {
  /** Newest first. */
  results: SearchResult[];
  hasMore: boolean;
}

export interface NewMessage {
  room: RoomRow;
  author: SessionUser;
  text: string;
  clientId: string | null;
  now: Date;
  /**
   * The message replied to (the caller checked that it exists and is not deleted): the store keeps
   * its seq and reads the quote itself, in or after the insert's transaction (replyPreviewOf).
   */
  replyTo?: ReplyPreview | null;
  /**
   * Lower-cased `@name` candidates found in the text (shared/mentions.ts): the store keeps those that
   * name a member of the room, inside the insert's transaction, and the DTO lists their usernames.
   */
  mentions?: readonly string[];
}

/**
 * A change of a room as live clients see it (decision 019): `change` is the room's change counter
 * after it. A post is a `message`; an edit, delete or reaction change is an `update` carrying the
 * whole message after it.
 */
export interface RoomChange {
  change: number;
  type: 'message' | 'update';
  message: MessageDto;
}

export type InsertResult =
  | { kind: 'inserted'; message: MessageDto; change: number }
  | { kind: 'duplicate'; message: MessageDto }
  | { kind: 'clientIdConflict' };

/**
 * What an edit, delete, react or unreact did. `changed`: committed; `changes` are the room changes it
 * made, ascending: the message's own update first, then (edit and delete) one update per message
 * replying to it, whose quote changed. `unchanged`: nothing to do (same text, already deleted,
 * already reacted, not reacted), with the message as stored. `deleted`: the message is deleted, so
 * it cannot be edited or reacted to. `tooManyReactions`: a new emoji beyond MAX_REACTIONS_PER_MESSAGE.
 */
export type ChangeResult =
  | { kind: 'changed'; message: MessageDto; changes: RoomChange[] }
  | { kind: 'unchanged'; message: MessageDto }
  | { kind: 'notFound' }
  | { kind: 'deleted' }
  | { kind: 'tooManyReactions' };

export interface ChangePage {
  changes: RoomChange[];
  hasMore: boolean;
}

export interface MessageStore {
  /**
   * A page in ascending seq. Without a cursor: the newest `limit`. `before`: the `limit` just older
   * than that seq. `after`: the `limit` just newer. `hasMore`: more exist in that direction.
   */
  list(room: RoomRow, page: PageRequest): Promise<MessagePage>;
  /**
   * Inserts a burst in ONE transaction (one commit, one fsync) and resolves, in input order, to what
   * insertOne would have answered for each post had they run one after another: a clientId already
   * stored (or earlier in the batch) by the same author gives `duplicate` with the stored message
   * when room and text match, `clientIdConflict` when they do not, and never takes a seq. Every
   * counter (room, user, membership) changes in that same transaction. It rejects as a whole (nothing
   * stored) when any post cannot be stored, e.g. its room does not exist: the caller may then retry
   * the posts one by one (GroupCommitWriter does).
   */
  insertBatch(inputs: readonly NewMessage[]): Promise<InsertResult[]>;
  insertOne(input: NewMessage): Promise<InsertResult>;
  /** One message as stored (tombstones included), or undefined. */
  get(room: RoomRow, seq: number): Promise<MessageDto | undefined>;
  /** Each of these is one transaction that advances the room's change counter when it changes anything. */
  edit(room: RoomRow, seq: number, text: string, now: Date, mentions?: readonly string[]): Promise<ChangeResult>;
  /** Text becomes '', reactions go, and the author's counters (room, user, membership) drop by one. */
  delete(room: RoomRow, seq: number, now: Date): Promise<ChangeResult>;
  react(room: RoomRow, seq: number, userId: number, emoji: string): Promise<ChangeResult>;
  unreact(room: RoomRow, seq: number, userId: number, emoji: string): Promise<ChangeResult>;
  /**
   * The room's changes after change `after`, ascending, at most `limit`, each with the message as
   * it is NOW (a message edited twice appears twice, both times with its latest text: the stored
   * text of earlier versions is gone by design). Posts come from messages.created_change, other
   * changes from the change log, which keeps the newest CHANGE_LOG_LENGTH changes of each room; the caller
   * resets a client further behind than that.
   */
  changes(room: RoomRow, after: number, limit: number): Promise<ChangePage>;
  /** The change that posted message `seq` (0 for seq 0): how a pre-019 event id (a seq) resumes. */
  changeOfSeq(room: RoomRow, seq: number): Promise<number | undefined>;
  /** Full-text search (FTS5 on SQLite, tsvector + GIN on PostgreSQL), newest first; deleted never found. */
  search(request: SearchRequest): Promise<SearchPage>;
}

export interface RoomCount {
  room: string;
  messageCount: number;
}

export interface UserCount {
  username: string;
  messageCount: number;
}

export interface StatsStore {
  /** Rooms, most messages first, then by name; a page at a time. */
  roomCounts(page: KeysetRequest<CountKey>): Promise<KeysetPage<RoomCount, CountKey>>;
  /** Users, most messages first, then by username. */
  userCounts(page: KeysetRequest<CountKey>): Promise<KeysetPage<UserCount, CountKey>>;
  /** Per member of one room: messages sent in that room, most first, then by username. */
  memberCounts(roomId: number, page: KeysetRequest<CountKey>): Promise<KeysetPage<UserCount, CountKey>>;
  /** One user's count per room they belong to, most first, then by room name. */
  userRoomCounts(userId: number, page: KeysetRequest<CountKey>): Promise<KeysetPage<RoomCount, CountKey>>;
  /** One user's count across all rooms (0 for an unknown id). */
  userCount(userId: number): Promise<number>;
}
