import { and, eq, gt, lte, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { sessions, users } from '../db/schema.ts';
import { perDatabase } from './prepared.ts';

export interface SessionUser {
  id: number;
  username: string;
}

export function insertSession(db: Db, userId: number, tokenHash: string, expiresAt: Date): void {
  db.insert(sessions).values({ userId, tokenHash, expiresAt }).run();
}

// Every request resolves its session: prepared once per database. A placeholder in a comparison
// is bound as is (no column encoding), so the timestamp_ms column is compared with epoch ms.
const sessionUserQuery = perDatabase((db) =>
  db
    .select({ sessionId: sessions.id, id: users.id, username: users.username })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), gt(sessions.expiresAt, sql.placeholder('nowMs'))))
    .prepare(),
);

/** The user behind a token hash, when the session exists and has not expired. */
export function findSessionUser(
  db: Db,
  tokenHash: string,
  now: Date,
): { sessionId: number; user: SessionUser } | undefined {
  const row = sessionUserQuery(db).get({ tokenHash, nowMs: now.getTime() });
  return row && { sessionId: row.sessionId, user: { id: row.id, username: row.username } };
}

export function deleteSession(db: Db, sessionId: number): void {
  db.delete(sessions).where(eq(sessions.id, sessionId)).run();
}

export function deleteExpiredSessions(db: Db, now: Date): number {
  return db.delete(sessions).where(lte(sessions.expiresAt, now)).run().changes;
}

/**
 * Deletes every session of a user, except `keepSessionId` when given, and returns the ids
 * deleted, so their live sockets can be closed too.
 */
export function deleteUserSessions(db: Db, userId: number, keepSessionId?: number): number[] {
  const ofUser = eq(sessions.userId, userId);
  return db
    .delete(sessions)
    .where(keepSessionId === undefined ? ofUser : and(ofUser, ne(sessions.id, keepSessionId)))
    .returning({ id: sessions.id })
    .all()
    .map((row) => row.id);
}
