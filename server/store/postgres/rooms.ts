import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { memberships, rooms, users } from '../../db/schema-pg.ts';
import { toRoomSummary } from '../dto.ts';
import { RoomLimitError } from '../errors.ts';
import { afterActivity, afterJoin } from '../keyset-conditions.ts';
import { type MemberKey, type RoomActivityKey, toKeysetPage } from '../keyset-page.ts';
import type { RoomStore } from '../store.ts';
import { guarded } from './errors.ts';
import { membershipStart, pgMyRoomStore } from './my-rooms.ts';
import type { PgDb } from './open.ts';

const memberCount =
  sql<number>`(select count(*) from ${memberships} where ${memberships.roomId} = ${rooms.id})`.mapWith(Number);

const summaryColumns = {
  name: rooms.name,
  lastSeq: rooms.lastSeq,
  messageCount: rooms.messageCount,
  lastMessageAt: rooms.lastMessageAt,
  createdAt: rooms.createdAt,
  memberCount,
};

const roomColumns = { id: rooms.id, name: rooms.name };

/** The advisory lock key that serializes room creation (any constant unique to this purpose). */
const ROOM_CREATION_LOCK = 0x61746c01;

export function pgRoomStore(db: PgDb): RoomStore {
  // Every room-scoped call looks its room up, and every post checks membership.
  const byName = db
    .select(roomColumns)
    .from(rooms)
    .where(eq(rooms.name, sql.placeholder('name')))
    .prepare('atlas_room_by_name');
  const membership = db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.roomId, sql.placeholder('roomId')), eq(memberships.userId, sql.placeholder('userId'))))
    .prepare('atlas_membership');
  const lastSeq = db
    .select({ lastSeq: rooms.lastSeq })
    .from(rooms)
    .where(eq(rooms.id, sql.placeholder('roomId')))
    .prepare('atlas_room_last_seq');
  // Every change's live event and every resume reads it.
  const lastChange = db
    .select({ lastChange: rooms.lastChange })
    .from(rooms)
    .where(eq(rooms.id, sql.placeholder('roomId')))
    .prepare('atlas_room_last_change');

  return {
    ...pgMyRoomStore(db),
    find: (name) => guarded(async () => (await byName.execute({ name }))[0]),
    summary: (roomId) =>
      guarded(async () => {
        const [row] = await db.select(summaryColumns).from(rooms).where(eq(rooms.id, roomId));
        return row && toRoomSummary(row);
      }),
    list: (page) =>
      guarded(async () => {
        const fetched = await db
          .select(summaryColumns)
          .from(rooms)
          .where(afterActivity(rooms.lastMessageAt, rooms.name, page.after))
          .orderBy(sql`${rooms.lastMessageAt} is null`, desc(rooms.lastMessageAt), asc(rooms.name))
          .limit(page.limit + 1);
        const { rows, hasMore, nextKey } = toKeysetPage(
          fetched,
          page.limit,
          (row): RoomActivityKey => [row.lastMessageAt?.getTime() ?? null, row.name],
        );
        return { rows: rows.map(toRoomSummary), hasMore, nextKey };
      }),
    // The same statements as SQLite's joinRoom, so ids advance alike: an existing room's insert does
    // nothing but takes an id from the sequence on both backends. Under READ COMMITTED a concurrent
    // creator's row is seen by the select once its insert was refused.
    join: (userId, name, now, maxRooms = Number.POSITIVE_INFINITY) =>
      guarded(() =>
        db.transaction(async (tx) => {
          if (
            Number.isFinite(maxRooms) &&
            (await tx.select(roomColumns).from(rooms).where(eq(rooms.name, name))).length === 0
          ) {
            // Serializes room creation across every process on this database (released at commit),
            // so the count below cannot be overshot by parallel joins. Joins of existing rooms skip it.
            await tx.execute(sql`select pg_advisory_xact_lock(${ROOM_CREATION_LOCK})`);
            const [counted] = await tx.select({ rooms: count() }).from(rooms);
            if ((counted?.rooms ?? 0) >= maxRooms) throw new RoomLimitError(maxRooms);
          }
          const [inserted] = await tx
            .insert(rooms)
            .values({ name, createdBy: userId })
            .onConflictDoNothing()
            .returning(roomColumns);
          const room = inserted ?? (await tx.select(roomColumns).from(rooms).where(eq(rooms.name, name)))[0];
          if (!room) throw new Error(`room ${name} vanished inside its own transaction`);
          await tx
            .insert(memberships)
            .values({ roomId: room.id, userId, joinedAt: now, ...membershipStart(room.id, userId) })
            .onConflictDoNothing();
          return { room, created: inserted !== undefined };
        }),
      ),
    isMember: (roomId, userId) => guarded(async () => (await membership.execute({ roomId, userId })).length > 0),
    members: (roomId, page) =>
      guarded(async () => {
        const after = afterJoin(memberships.joinedAt, users.username, page.after);
        const fetched = await db
          .select({ username: users.username, joinedAt: memberships.joinedAt, messageCount: memberships.messageCount })
          .from(memberships)
          .innerJoin(users, eq(users.id, memberships.userId))
          .where(and(eq(memberships.roomId, roomId), after))
          .orderBy(asc(memberships.joinedAt), asc(users.username))
          .limit(page.limit + 1);
        return toKeysetPage(fetched, page.limit, (row): MemberKey => [row.joinedAt.getTime(), row.username]);
      }),
    lastSeq: (roomId) =>
      guarded(async () => {
        const [row] = await lastSeq.execute({ roomId });
        if (!row) throw new Error(`room ${roomId} not found`);
        return row.lastSeq;
      }),
    lastSeqs: (names) =>
      guarded(async () => {
        const heads = new Map<string, number>();
        if (names.length === 0) return heads;
        const rows = await db
          .select({ name: rooms.name, lastSeq: rooms.lastSeq })
          .from(rooms)
          .where(inArray(rooms.name, [...names]));
        for (const row of rows) heads.set(row.name, row.lastSeq);
        return heads;
      }),
    lastChange: (roomId) =>
      guarded(async () => {
        const [row] = await lastChange.execute({ roomId });
        if (!row) throw new Error(`room ${roomId} not found`);
        return row.lastChange;
      }),
    lastChanges: (names) =>
      guarded(async () => {
        const heads = new Map<string, number>();
        if (names.length === 0) return heads;
        const rows = await db
          .select({ name: rooms.name, lastChange: rooms.lastChange })
          .from(rooms)
          .where(inArray(rooms.name, [...names]));
        for (const row of rows) heads.set(row.name, row.lastChange);
        return heads;
      }),
    creator: (roomId) =>
      guarded(async () => {
        const [row] = await db.select({ createdBy: rooms.createdBy }).from(rooms).where(eq(rooms.id, roomId));
        return row?.createdBy ?? null;
      }),
  };
}
