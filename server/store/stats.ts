import { and, asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, rooms, users } from '../db/schema.ts';
import { afterCount } from './keyset-conditions.ts';
import { type CountKey, type KeysetRequest, toKeysetPage } from './keyset-page.ts';

/** Rooms by message count, most first; ties by name. */
export function roomMessageCounts(db: Db, page: KeysetRequest<CountKey>) {
  const fetched = db
    .select({ room: rooms.name, messageCount: rooms.messageCount })
    .from(rooms)
    .where(afterCount(rooms.messageCount, rooms.name, page.after))
    .orderBy(desc(rooms.messageCount), asc(rooms.name))
    .limit(page.limit + 1)
    .all();
  return toKeysetPage(fetched, page.limit, (row): CountKey => [row.messageCount, row.room]);
}

/** Users by messages sent across all rooms, most first; ties by username. */
export function userMessageCounts(db: Db, page: KeysetRequest<CountKey>) {
  const fetched = db
    .select({ username: users.username, messageCount: users.messageCount })
    .from(users)
    .where(afterCount(users.messageCount, users.username, page.after))
    .orderBy(desc(users.messageCount), asc(users.username))
    .limit(page.limit + 1)
    .all();
  return toKeysetPage(fetched, page.limit, (row): CountKey => [row.messageCount, row.username]);
}

/** Per member of one room: messages sent in that room, most first; ties by username. */
export function memberMessageCounts(db: Db, roomId: number, page: KeysetRequest<CountKey>) {
  const fetched = db
    .select({ username: users.username, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.roomId, roomId), afterCount(memberships.messageCount, users.username, page.after)))
    .orderBy(desc(memberships.messageCount), asc(users.username))
    .limit(page.limit + 1)
    .all();
  return toKeysetPage(fetched, page.limit, (row): CountKey => [row.messageCount, row.username]);
}

/** One user's messages in each room they belong to, most first; ties by room name. */
export function userRoomCounts(db: Db, userId: number, page: KeysetRequest<CountKey>) {
  const fetched = db
    .select({ room: rooms.name, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(rooms, eq(rooms.id, memberships.roomId))
    .where(and(eq(memberships.userId, userId), afterCount(memberships.messageCount, rooms.name, page.after)))
    .orderBy(desc(memberships.messageCount), asc(rooms.name))
    .limit(page.limit + 1)
    .all();
  return toKeysetPage(fetched, page.limit, (row): CountKey => [row.messageCount, row.room]);
}

export function userMessageCount(db: Db, userId: number): number {
  const row = db.select({ messageCount: users.messageCount }).from(users).where(eq(users.id, userId)).get();
  return row?.messageCount ?? 0;
}
