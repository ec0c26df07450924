import { and, asc, desc, eq } from 'drizzle-orm';
import { memberships, rooms, users } from '../../db/schema-pg.ts';
import { afterCount } from '../keyset-conditions.ts';
import { type CountKey, toKeysetPage } from '../keyset-page.ts';
import type { StatsStore } from '../store.ts';
import { guarded } from './errors.ts';
import type { PgDb } from './open.ts';

const byRoom = (row: { room: string; messageCount: number }): CountKey => [row.messageCount, row.room];
const byUser = (row: { username: string; messageCount: number }): CountKey => [row.messageCount, row.username];

export function pgStatsStore(db: PgDb): StatsStore {
  return {
    roomCounts: (page) =>
      guarded(async () => {
        const fetched = await db
          .select({ room: rooms.name, messageCount: rooms.messageCount })
          .from(rooms)
          .where(afterCount(rooms.messageCount, rooms.name, page.after))
          .orderBy(desc(rooms.messageCount), asc(rooms.name))
          .limit(page.limit + 1);
        return toKeysetPage(fetched, page.limit, byRoom);
      }),
    userCounts: (page) =>
      guarded(async () => {
        const fetched = await db
          .select({ username: users.username, messageCount: users.messageCount })
          .from(users)
          .where(afterCount(users.messageCount, users.username, page.after))
          .orderBy(desc(users.messageCount), asc(users.username))
          .limit(page.limit + 1);
        return toKeysetPage(fetched, page.limit, byUser);
      }),
    memberCounts: (roomId, page) =>
      guarded(async () => {
        const fetched = await db
          .select({ username: users.username, messageCount: memberships.messageCount })
          .from(memberships)
          .innerJoin(users, eq(users.id, memberships.userId))
          .where(and(eq(memberships.roomId, roomId), afterCount(memberships.messageCount, users.username, page.after)))
          .orderBy(desc(memberships.messageCount), asc(users.username))
          .limit(page.limit + 1);
        return toKeysetPage(fetched, page.limit, byUser);
      }),
    userRoomCounts: (userId, page) =>
      guarded(async () => {
        const fetched = await db
          .select({ room: rooms.name, messageCount: memberships.messageCount })
          .from(memberships)
          .innerJoin(rooms, eq(rooms.id, memberships.roomId))
          .where(and(eq(memberships.userId, userId), afterCount(memberships.messageCount, rooms.name, page.after)))
          .orderBy(desc(memberships.messageCount), asc(rooms.name))
          .limit(page.limit + 1);
        return toKeysetPage(fetched, page.limit, byRoom);
      }),
    userCount: (userId) =>
      guarded(async () => {
        const [row] = await db.select({ messageCount: users.messageCount }).from(users).where(eq(users.id, userId));
        return row?.messageCount ?? 0;
      }),
  };
}
