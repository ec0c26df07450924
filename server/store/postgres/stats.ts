import { and, asc, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { memberships, rooms, users } from '../../db/schema-pg.ts';
import { type CountKey, toKeysetPage } from '../keyset-page.ts';
import type { StatsStore } from '../store.ts';
import { guarded } from './errors.ts';
import type { PgDb } from './open.ts';

/** Rows after `key` in the order "count descending, then name ascending" (as server/store/stats.ts). */
function afterCount(countColumn: PgColumn, nameColumn: PgColumn, key: CountKey | undefined): SQL | undefined {
  if (key === undefined) return undefined;
  const [messageCount, name] = key;
  return or(lt(countColumn, messageCount), and(eq(countColumn, messageCount), gt(nameColumn, name)));
}

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
