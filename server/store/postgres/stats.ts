import { asc, desc, eq } from 'drizzle-orm';
import { memberships, rooms, users } from '../../db/schema-pg.ts';
import type { StatsStore } from '../store.ts';
import { guarded } from './errors.ts';
import type { PgDb } from './open.ts';

export function pgStatsStore(db: PgDb): StatsStore {
  return {
    roomCounts: () =>
      guarded(() =>
        db
          .select({ room: rooms.name, messageCount: rooms.messageCount })
          .from(rooms)
          .orderBy(desc(rooms.messageCount), asc(rooms.name)),
      ),
    userCounts: () =>
      guarded(() =>
        db
          .select({ username: users.username, messageCount: users.messageCount })
          .from(users)
          .orderBy(desc(users.messageCount), asc(users.username)),
      ),
    memberCounts: (roomId) =>
      guarded(() =>
        db
          .select({ username: users.username, messageCount: memberships.messageCount })
          .from(memberships)
          .innerJoin(users, eq(users.id, memberships.userId))
          .where(eq(memberships.roomId, roomId))
          .orderBy(desc(memberships.messageCount), asc(users.username)),
      ),
    userRoomCounts: (userId) =>
      guarded(() =>
        db
          .select({ room: rooms.name, messageCount: memberships.messageCount })
          .from(memberships)
          .innerJoin(rooms, eq(rooms.id, memberships.roomId))
          .where(eq(memberships.userId, userId))
          .orderBy(desc(memberships.messageCount), asc(rooms.name)),
      ),
    userCount: (userId) =>
      guarded(async () => {
        const [row] = await db.select({ messageCount: users.messageCount }).from(users).where(eq(users.id, userId));
        return row?.messageCount ?? 0;
      }),
  };
}
