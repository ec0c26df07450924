import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { memberships, messageMentions, messages, rooms, users } from '../../db/schema-pg.ts';
import { type MyRoom, type RoomStore, type SessionUser, UNREAD_COUNT_CAP } from '../store.ts';
import { guarded } from './errors.ts';
import type { PgDb } from './open.ts';

/**
 * "My rooms" on PostgreSQL (issue 13, decision 020), answering as server/store/my-rooms.ts does on
 * SQLite. The counts are correlated subqueries of the one statement that reads the memberships, so
 * every room's counts, marker and head come from one snapshot (a post committing meanwhile is in all
 * of them or none). Each count reads at most UNREAD_COUNT_CAP rows (the LIMIT inside count(*)).
 */

/** The room's messages after the member's marker, by others, not deleted: what "unread" means. */
function unread(userId: SQL): SQL {
  return sql`${messages.roomId} = ${rooms.id} and ${messages.seq} > ${memberships.lastReadSeq}
    and ${messages.authorId} <> ${userId} and ${messages.deletedAt} is null`;
}

function counts(userId: SQL) {
  return {
    unreadCount: sql<number>`(select count(*) from (select 1 from ${messages} where ${unread(userId)}
      limit ${sql.raw(String(UNREAD_COUNT_CAP))}) as unread)`.mapWith(Number),
    mentionCount: sql<number>`(select count(*) from (select 1 from ${messageMentions}
      join ${messages} on ${messages.id} = ${messageMentions.messageId}
      where ${messageMentions.userId} = ${userId} and ${unread(userId)}
      limit ${sql.raw(String(UNREAD_COUNT_CAP))}) as mentioned)`.mapWith(Number),
  };
}

type MyRoomRow = Omit<MyRoom, 'lastMessageAt'> & { lastMessageAt: Date | null };

function toMyRoom(row: MyRoomRow): MyRoom {
  // Keys in MyRoom's order, as SQLite builds it: the JSON is the same on both backends.
  return {
    name: row.name,
    unreadCount: row.unreadCount,
    mentionCount: row.mentionCount,
    lastReadSeq: row.lastReadSeq,
    lastSeq: row.lastSeq,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
  };
}

export function pgMyRoomStore(db: PgDb): Pick<RoomStore, 'mine' | 'myRoom' | 'markRead' | 'leave' | 'membersNamed'> {
  const userId = sql.placeholder('userId');
  const columns = {
    name: rooms.name,
    ...counts(sql`${userId}`),
    lastReadSeq: memberships.lastReadSeq,
    lastSeq: rooms.lastSeq,
    lastMessageAt: rooms.lastMessageAt,
  };
  const mine = db
    .select(columns)
    .from(memberships)
    .innerJoin(rooms, eq(rooms.id, memberships.roomId))
    .where(eq(memberships.userId, userId))
    .orderBy(sql`${rooms.lastMessageAt} is null`, desc(rooms.lastMessageAt), asc(rooms.name))
    .prepare('atlas_my_rooms');
  const one = db
    .select(columns)
    .from(memberships)
    .innerJoin(rooms, eq(rooms.id, memberships.roomId))
    .where(and(eq(memberships.userId, userId), eq(memberships.roomId, sql.placeholder('roomId'))))
    .prepare('atlas_my_room');

  return {
    mine: (id) => guarded(async () => (await mine.execute({ userId: id })).map(toMyRoom)),
    myRoom: (roomId, id) =>
      guarded(async () => {
        const [row] = await one.execute({ userId: id, roomId });
        return row && toMyRoom(row);
      }),
    // One statement: the head is read and the marker moved under the membership's row lock, so two
    // concurrent marks end at the larger of the two, never going back.
    markRead: (roomId, id, seq) =>
      guarded(async () => {
        const [row] = await db
          .update(memberships)
          .set({ lastReadSeq: sql`greatest(${memberships.lastReadSeq}, least(${seq}::bigint, ${rooms.lastSeq}))` })
          .from(rooms)
          .where(and(eq(rooms.id, memberships.roomId), eq(memberships.roomId, roomId), eq(memberships.userId, id)))
          .returning({ lastReadSeq: memberships.lastReadSeq });
        return row?.lastReadSeq;
      }),
    leave: (roomId, id) =>
      guarded(async () => {
        const removed = await db
          .delete(memberships)
          .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, id)))
          .returning({ userId: memberships.userId });
        return removed.length > 0;
      }),
    membersNamed: (roomId, usernames) => guarded(() => membersNamed(db, roomId, usernames)),
  };
}

/** The members of a room among these usernames, compared case-insensitively, by user id. */
export async function membersNamed(
  db: Pick<PgDb, 'select'>,
  roomId: number,
  usernames: readonly string[],
): Promise<SessionUser[]> {
  if (usernames.length === 0) return [];
  const lowered = [...new Set(usernames.map((name) => name.toLowerCase()))];
  return db
    .select({ id: users.id, username: users.username })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.roomId, roomId), sql`lower(${users.username}) = any(${sql.param(lowered)}::text[])`))
    .orderBy(asc(users.id));
}

/**
 * What a new membership starts with (decision 020), as SQL for the insert's values: read up to the
 * room's head, and the user's messages still in the room (they left and came back) counted again.
 */
export function membershipStart(roomId: number, userId: number) {
  return {
    lastReadSeq: sql`(select ${rooms.lastSeq} from ${rooms} where ${rooms.id} = ${roomId})`,
    messageCount: sql`(select count(*) from ${messages} where ${messages.roomId} = ${roomId}
      and ${messages.authorId} = ${userId} and ${messages.deletedAt} is null)`,
  };
}
