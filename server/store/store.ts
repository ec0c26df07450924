import type { MessageDto, RoomSummary } from '../schemas.ts';
import type { CountKey, KeysetPage, KeysetRequest, MemberKey, RoomActivityKey } from './keyset-page.ts';

export type { MessageDto, RoomSummary };

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
}

export interface PageRequest {
  before?: number | undefined;
  after?: number | undefined;
  limit: number;
}

export interface MessagePage {
  messages: MessageDto[];
  hasMore: boolean;
}

export interface NewMessage {
  room: RoomRow;
  author: SessionUser;
  text: string;
  clientId: string | null;
  now: Date;
}

export type InsertResult =
  | { kind: 'inserted'; message: MessageDto }
  | { kind: 'duplicate'; message: MessageDto }
  | { kind: 'clientIdConflict' };

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
