import { and, eq, gt, lte, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { sessions, users } from '../db/schema.ts';
import { perDatabase } from './prepared.ts';
import type { SessionUser } from './store.ts';

/** Resolves to the new session's id. */
export function insertSession(db: Db, userId: number, tokenHash: string, expiresAt: Date): number {
  return db.insert(sessions).values({ userId, tokenHash, expiresAt }).returning({ id: sessions.id }).get().id;
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

// Every call on a WebSocket re-checks its session (a primary-key lookup): prepared once per database.
const activeSessionQuery = perDatabase((db) =>
  db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sql.placeholder('sessionId')), gt(sessions.expiresAt, sql.placeholder('nowMs'))))
    .prepare(),
);

/** Whether the session still exists and has not expired. */
export function isSessionActive(db: Db, sessionId: number, now: Date): boolean {
  return activeSessionQuery(db).get({ sessionId, nowMs: now.getTime() }) !== undefined;
}

export function deleteSession(db: Db, sessionId: number): void {
  db.delete(sessions).where(eq(sessions.id, sessionId)).run();
}

const ascendingIds = (rows: { id: number }[]) => rows.map((row) => row.id).sort((x, y) => x - y);

/** Deletes expired sessions and returns their ids ascending, so their live connections can be closed. */
export function deleteExpiredSessions(db: Db, now: Date): number[] {
  return ascendingIds(db.delete(sessions).where(lte(sessions.expiresAt, now)).returning({ id: sessions.id }).all());
}

/**
 * Deletes every session of a user, except `keepSessionId` when given, and returns the ids
 * deleted, ascending, so their live sockets can be closed too.
 */
export function deleteUserSessions(db: Db, userId: number, keepSessionId?: number): number[] {
  const ofUser = eq(sessions.userId, userId);
  return ascendingIds(
    db
      .delete(sessions)
      .where(keepSessionId === undefined ? ofUser : and(ofUser, ne(sessions.id, keepSessionId)))
      .returning({ id: sessions.id })
      .all(),
  );
}
