import { and, asc, count, desc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, messageMentions, messages, rooms } from '../db/schema.ts';
import { perDatabase } from './prepared.ts';
import { type MyRoom, UNREAD_COUNT_CAP } from './store.ts';

/**
 * "My rooms" on SQLite (issue 13, decision 020): each membership with its read marker and its
 * unread and mention counts. Counts are read, not kept: keeping them would make every post write
 * one row per member. Each count is an index range scan over the room's messages after the marker,
 * stopped at UNREAD_COUNT_CAP rows.
 */

/** A room's messages after the marker, by others, not deleted: what "unread" means. */
const unreadMessages = () =>
  and(
    eq(messages.roomId, sql.placeholder('roomId')),
    gt(messages.seq, sql.placeholder('after')),
    ne(messages.authorId, sql.placeholder('userId')),
    isNull(messages.deletedAt),
  );

/** A user's memberships with what each "my rooms" entry shows besides its counts. */
const membershipRows = (db: Db) =>
  db
    .select({
      roomId: rooms.id,
      name: rooms.name,
      lastSeq: rooms.lastSeq,
      lastMessageAt: rooms.lastMessageAt,
      lastReadSeq: memberships.lastReadSeq,
    })
    .from(memberships)
    .innerJoin(rooms, eq(rooms.id, memberships.roomId));

const statements = perDatabase((db) => ({
  mine: membershipRows(db)
    .where(eq(memberships.userId, sql.placeholder('userId')))
    .orderBy(sql`${rooms.lastMessageAt} is null`, desc(rooms.lastMessageAt), asc(rooms.name))
    .prepare(),
  one: membershipRows(db)
    .where(and(eq(memberships.userId, sql.placeholder('userId')), eq(memberships.roomId, sql.placeholder('roomId'))))
    .prepare(),
  // count(*) over a LIMITed subquery: the scan stops at the cap.
  unread: db
    .select({ n: count() })
    .from(db.select({ one: sql`1` }).from(messages).where(unreadMessages()).limit(UNREAD_COUNT_CAP).as('unread'))
    .prepare(),
  mentioned: db
    .select({ n: count() })
    .from(
      db
        .select({ one: sql`1` })
        .from(messageMentions)
        .innerJoin(messages, eq(messages.id, messageMentions.messageId))
        .where(and(eq(messageMentions.userId, sql.placeholder('userId')), unreadMessages()))
        .limit(UNREAD_COUNT_CAP)
        .as('mentioned'),
    )
    .prepare(),
}));

type MembershipRow = { roomId: number; name: string; lastSeq: number; lastMessageAt: Date | null; lastReadSeq: number };

function withCounts(db: Db, userId: number, row: MembershipRow): MyRoom {
  const s = statements(db);
  const params = { roomId: row.roomId, after: row.lastReadSeq, userId };
  return {
    name: row.name,
    unreadCount: s.unread.get(params)?.n ?? 0,
    mentionCount: s.mentioned.get(params)?.n ?? 0,
    lastReadSeq: row.lastReadSeq,
    lastSeq: row.lastSeq,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
  };
}

export function myRooms(db: Db, userId: number): MyRoom[] {
  // One snapshot: a post between two rooms' counts must not make them disagree with lastSeq.
  return db.transaction(() =>
    statements(db)
      .mine.all({ userId })
      .map((row) => withCounts(db, userId, row)),
  );
}

export function myRoom(db: Db, roomId: number, userId: number): MyRoom | undefined {
  return db.transaction(() => {
    const row = statements(db).one.get({ userId, roomId });
    return row && withCounts(db, userId, row);
  });
}

/** Forward only, clamped to the room's head; undefined when not a member. */
export function markRead(db: Db, roomId: number, userId: number, seq: number): number | undefined {
  return db.transaction(
    (tx) => {
      const head = tx.select({ lastSeq: rooms.lastSeq }).from(rooms).where(eq(rooms.id, roomId)).get();
      if (!head) return undefined;
      const target = Math.min(seq, head.lastSeq);
      const row = tx
        .update(memberships)
        .set({ lastReadSeq: sql`max(${memberships.lastReadSeq}, ${target})` })
        .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
        .returning({ lastReadSeq: memberships.lastReadSeq })
        .get();
      return row?.lastReadSeq;
    },
    { behavior: 'immediate' },
  );
}

export function leaveRoom(db: Db, roomId: number, userId: number): boolean {
  const removed = db
    .delete(memberships)
    .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
    .returning({ userId: memberships.userId })
    .all();
  return removed.length > 0;
}

/**
 * What a membership starts with (decision 020): read up to the room's head (joining a busy room does
 * not show its whole history as unread), and the messages the user already has there (they left and
 * came back) counted again.
 */
export function membershipStart(db: Db, roomId: number, userId: number): { lastReadSeq: number; messageCount: number } {
  const head = db.select({ lastSeq: rooms.lastSeq }).from(rooms).where(eq(rooms.id, roomId)).get();
  const own = db
    .select({ n: count() })
    .from(messages)
    .where(and(eq(messages.roomId, roomId), eq(messages.authorId, userId), sql`${messages.deletedAt} is null`))
    .get();
  return { lastReadSeq: head?.lastSeq ?? 0, messageCount: own?.n ?? 0 };
}
