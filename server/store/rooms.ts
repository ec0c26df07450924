import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, rooms, users } from '../db/schema.ts';
import type { RoomSummary } from '../schemas.ts';
import { toRoomSummary } from './dto.ts';
import { RoomLimitError } from './errors.ts';
import { afterActivity, afterJoin } from './keyset-conditions.ts';
import {
  type KeysetPage,
  type KeysetRequest,
  type MemberKey,
  type RoomActivityKey,
  toKeysetPage,
} from './keyset-page.ts';
import { membershipStart } from './my-rooms.ts';
import { perDatabase } from './prepared.ts';

export interface RoomRow {
  id: number;
  name: string;
}

const memberCount = sql<number>`(select count(*) from ${memberships} where ${memberships.roomId} = ${rooms.id})`;

const summaryColumns = {
  name: rooms.name,
  lastSeq: rooms.lastSeq,
  messageCount: rooms.messageCount,
  lastMessageAt: rooms.lastMessageAt,
  createdAt: rooms.createdAt,
  memberCount,
};

// Every room-scoped call looks its room up (and every post checks membership): prepared once per database.
const roomByName = perDatabase((db) =>
  db
    .select({ id: rooms.id, name: rooms.name })
    .from(rooms)
    .where(eq(rooms.name, sql.placeholder('name')))
    .prepare(),
);

const membershipQuery = perDatabase((db) =>
  db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.roomId, sql.placeholder('roomId')), eq(memberships.userId, sql.placeholder('userId'))))
    .prepare(),
);

export function findRoom(db: Db, name: string): RoomRow | undefined {
  return roomByName(db).get({ name });
}

export function getRoomSummary(db: Db, roomId: number): RoomSummary | undefined {
  const row = db.select(summaryColumns).from(rooms).where(eq(rooms.id, roomId)).get();
  return row && toRoomSummary(row);
}

/**
 * A page of rooms, most recently active first; rooms without messages last, by name. Member counts
 * are read for the page's rooms only, not computed for every room the sort looks at.
 */
export function listRoomSummaries(
  db: Db,
  page: KeysetRequest<RoomActivityKey>,
): KeysetPage<RoomSummary, RoomActivityKey> {
  const fetched = db
    .select({
      id: rooms.id,
      name: rooms.name,
      lastSeq: rooms.lastSeq,
      messageCount: rooms.messageCount,
      lastMessageAt: rooms.lastMessageAt,
      createdAt: rooms.createdAt,
    })
    .from(rooms)
    .where(afterActivity(rooms.lastMessageAt, rooms.name, page.after))
    .orderBy(sql`${rooms.lastMessageAt} is null`, desc(rooms.lastMessageAt), asc(rooms.name))
    .limit(page.limit + 1)
    .all();
  const { rows, hasMore, nextKey } = toKeysetPage(
    fetched,
    page.limit,
    (row): RoomActivityKey => [row.lastMessageAt?.getTime() ?? null, row.name],
  );
  const members = new Map(
    rows.length === 0
      ? []
      : db
          .select({ roomId: memberships.roomId, members: count() })
          .from(memberships)
          .where(
            inArray(
              memberships.roomId,
              rows.map((row) => row.id),
            ),
          )
          .groupBy(memberships.roomId)
          .all()
          .map((row) => [row.roomId, row.members]),
  );
  return {
    rows: rows.map((row) => toRoomSummary({ ...row, memberCount: members.get(row.id) ?? 0 })),
    hasMore,
    nextKey,
  };
}

/**
 * Creates the room if it does not exist and makes the user a member, in one IMMEDIATE transaction
 * (the write lock is taken first, so the room count cannot change between the check and the insert).
 * Joining again is harmless: the original join time is kept. Creating a room when `maxRooms` rooms
 * exist throws RoomLimitError; joining an existing one always works.
 */
export function joinRoom(
  db: Db,
  userId: number,
  name: string,
  now: Date,
  maxRooms = Number.POSITIVE_INFINITY,
): { room: RoomRow; created: boolean } {
  return db.transaction(
    (tx) => {
      const existing = tx.select({ id: rooms.id, name: rooms.name }).from(rooms).where(eq(rooms.name, name)).get();
      if (!existing && (tx.select({ rooms: count() }).from(rooms).get()?.rooms ?? 0) >= maxRooms) {
        throw new RoomLimitError(maxRooms);
      }
      // The insert runs even when the room exists, as on PostgreSQL (postgres/rooms.ts), so ids
      // advance alike on both backends.
      const inserted = tx
        .insert(rooms)
        .values({ name, createdBy: userId })
        .onConflictDoNothing()
        .returning({ id: rooms.id, name: rooms.name })
        .get();
      const room = inserted ?? existing;
      if (!room) throw new Error(`room ${name} vanished inside its own transaction`);
      tx.insert(memberships)
        .values({ roomId: room.id, userId, joinedAt: now, ...membershipStart(tx, room.id, userId) })
        .onConflictDoNothing()
        .run();
      return { room, created: inserted !== undefined };
    },
    { behavior: 'immediate' },
  );
}

export function isMember(db: Db, roomId: number, userId: number): boolean {
  return membershipQuery(db).get({ roomId, userId }) !== undefined;
}

export interface MemberRow {
  username: string;
  joinedAt: Date;
  messageCount: number;
}

/**
 * A page of a room's members in join order (ties by username). Join order never changes and
 * newcomers join at the end, so a walk over the pages sees every member exactly once.
 */
export function listMembers(db: Db, roomId: number, page: KeysetRequest<MemberKey>): KeysetPage<MemberRow, MemberKey> {
  const after = afterJoin(memberships.joinedAt, users.username, page.after);
  const fetched = db
    .select({ username: users.username, joinedAt: memberships.joinedAt, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.roomId, roomId), after))
    .orderBy(asc(memberships.joinedAt), asc(users.username))
    .limit(page.limit + 1)
    .all();
  return toKeysetPage(fetched, page.limit, (row): MemberKey => [row.joinedAt.getTime(), row.username]);
}

/** One counter of each named room that exists (unknown names left out), in chunked queries. */
function roomCounters(
  db: Db,
  names: readonly string[],
  counter: typeof rooms.lastSeq | typeof rooms.lastChange,
): Map<string, number> {
  const heads = new Map<string, number>();
  // SQLite allows 32766 parameters per statement; chunk well below it.
  for (let start = 0; start < names.length; start += 500) {
    const chunk = names.slice(start, start + 500);
    const rows = db.select({ name: rooms.name, value: counter }).from(rooms).where(inArray(rooms.name, chunk)).all();
    for (const row of rows) heads.set(row.name, row.value);
  }
  return heads;
}

export function getRoomLastSeqs(db: Db, names: readonly string[]): Map<string, number> {
  return roomCounters(db, names, rooms.lastSeq);
}

export function getRoomLastSeq(db: Db, roomId: number): number {
  const row = db.select({ lastSeq: rooms.lastSeq }).from(rooms).where(eq(rooms.id, roomId)).get();
  if (!row) throw new Error(`room ${roomId} not found`);
  return row.lastSeq;
}

export function getRoomLastChange(db: Db, roomId: number): number {
  const row = db.select({ lastChange: rooms.lastChange }).from(rooms).where(eq(rooms.id, roomId)).get();
  if (!row) throw new Error(`room ${roomId} not found`);
  return row.lastChange;
}

export function getRoomLastChanges(db: Db, names: readonly string[]): Map<string, number> {
  return roomCounters(db, names, rooms.lastChange);
}

export function getRoomCreator(db: Db, roomId: number): number | null {
  return db.select({ createdBy: rooms.createdBy }).from(rooms).where(eq(rooms.id, roomId)).get()?.createdBy ?? null;
}
