import { asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, rooms, users } from '../db/schema.ts';

export function roomMessageCounts(db: Db): { room: string; messageCount: number }[] {
  return db
    .select({ room: rooms.name, messageCount: rooms.messageCount })
    .from(rooms)
    .orderBy(desc(rooms.messageCount), asc(rooms.name))
    .all();
}

export function userMessageCounts(db: Db): { username: string; messageCount: number }[] {
  return db
    .select({ username: users.username, messageCount: users.messageCount })
    .from(users)
    .orderBy(desc(users.messageCount), asc(users.username))
    .all();
}

/** Per member of one room: messages sent in that room. */
export function memberMessageCounts(db: Db, roomId: number): { username: string; messageCount: number }[] {
  return db
    .select({ username: users.username, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.roomId, roomId))
    .orderBy(desc(memberships.messageCount), asc(users.username))
    .all();
}

/** One user's count overall and per room they belong to. */
export function userRoomCounts(db: Db, userId: number): { room: string; messageCount: number }[] {
  return db
    .select({ room: rooms.name, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(rooms, eq(rooms.id, memberships.roomId))
    .where(eq(memberships.userId, userId))
    .orderBy(desc(memberships.messageCount), asc(rooms.name))
    .all();
}

export function userMessageCount(db: Db, userId: number): number {
  const row = db.select({ messageCount: users.messageCount }).from(users).where(eq(users.id, userId)).get();
  return row?.messageCount ?? 0;
}
