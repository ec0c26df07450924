import { and, eq, lte, ne } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sessions, users } from '../../db/schema.ts';

/** Queries the Store needs beyond server/store/sessions.ts and users.ts (which today's routers still call). */

export function insertSessionReturningId(db: Db, userId: number, tokenHash: string, expiresAt: Date): number {
  const row = db.insert(sessions).values({ userId, tokenHash, expiresAt }).returning({ id: sessions.id }).get();
  return row.id;
}

export function deleteSessionsForUser(db: Db, userId: number, exceptSessionId: number | undefined): number[] {
  const except = exceptSessionId === undefined ? undefined : ne(sessions.id, exceptSessionId);
  return db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), except))
    .returning({ id: sessions.id })
    .all()
    .map((row) => row.id)
    .sort((a, b) => a - b);
}

export function deleteExpiredSessionsReturningIds(db: Db, now: Date): number[] {
  return db
    .delete(sessions)
    .where(lte(sessions.expiresAt, now))
    .returning({ id: sessions.id })
    .all()
    .map((row) => row.id)
    .sort((a, b) => a - b);
}

export function setPasswordHash(db: Db, userId: number, passwordHash: string): void {
  db.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
}
