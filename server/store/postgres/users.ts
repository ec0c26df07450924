import { eq, sql } from 'drizzle-orm';
import { sessions, users } from '../../db/schema-pg.ts';
import type { SessionStore, UserStore } from '../store.ts';
import { guarded } from './errors.ts';
import type { PgDb } from './open.ts';

const userColumns = { id: users.id, username: users.username, passwordHash: users.passwordHash };

export function pgUserStore(db: PgDb): UserStore {
  // The expression matches the unique index on lower(username). Sign-in and sign-up run it.
  const byName = db
    .select(userColumns)
    .from(users)
    .where(eq(sql`lower(${users.username})`, sql.placeholder('lower')))
    .prepare('atlas_user_by_name');
  return {
    findByUsername: (username) => guarded(async () => (await byName.execute({ lower: username.toLowerCase() }))[0]),
    // ON CONFLICT DO NOTHING, like SQLite: a taken name takes an id from the sequence on both.
    insert: (username, passwordHash) =>
      guarded(
        async () =>
          (await db.insert(users).values({ username, passwordHash }).onConflictDoNothing().returning(userColumns))[0],
      ),
    insertWithSession: (username, passwordHash, session) =>
      guarded(() =>
        db.transaction(async (tx) => {
          const [user] = await tx
            .insert(users)
            .values({ username, passwordHash })
            .onConflictDoNothing()
            .returning(userColumns);
          if (user) await tx.insert(sessions).values({ userId: user.id, ...session });
          return user;
        }),
      ),
    setPasswordHash: (userId, passwordHash) =>
      guarded(async () => {
        await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
      }),
    changePassword: (userId, passwordHash, keepSessionId) =>
      guarded(() =>
        db.transaction(async (tx) => {
          await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
          const where =
            keepSessionId === undefined
              ? eq(sessions.userId, userId)
              : sql`${sessions.userId} = ${userId} and ${sessions.id} <> ${keepSessionId}`;
          return sortedIds(await tx.delete(sessions).where(where).returning({ id: sessions.id }));
        }),
      ),
  };
}

const sortedIds = (rows: { id: number }[]) => rows.map((row) => row.id).sort((a, b) => a - b);

export function pgSessionStore(db: PgDb): SessionStore {
  // Every request resolves its session.
  const sessionUser = db
    .select({ sessionId: sessions.id, id: users.id, username: users.username })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      sql`${sessions.tokenHash} = ${sql.placeholder('tokenHash')} and ${sessions.expiresAt} > ${sql.placeholder('now')}`,
    )
    .prepare('atlas_session_user');
  // Every call arriving over a WebSocket checks that the socket's session still exists.
  const active = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(sql`${sessions.id} = ${sql.placeholder('sessionId')} and ${sessions.expiresAt} > ${sql.placeholder('now')}`)
    .prepare('atlas_session_active');
  return {
    insert: (userId, tokenHash, expiresAt) =>
      guarded(async () => {
        const [row] = await db.insert(sessions).values({ userId, tokenHash, expiresAt }).returning({ id: sessions.id });
        if (!row) throw new Error('session insert returned no row');
        return row.id;
      }),
    findUser: (tokenHash, now) =>
      guarded(async () => {
        const [row] = await sessionUser.execute({ tokenHash, now: now.toISOString() });
        return row && { sessionId: row.sessionId, user: { id: row.id, username: row.username } };
      }),
    isActive: (sessionId, now) =>
      guarded(async () => (await active.execute({ sessionId, now: now.toISOString() })).length > 0),
    delete: (sessionId) =>
      guarded(async () => {
        await db.delete(sessions).where(eq(sessions.id, sessionId));
      }),
    deleteForUser: (userId, options) =>
      guarded(async () => {
        const except = options?.exceptSessionId;
        const where =
          except === undefined
            ? eq(sessions.userId, userId)
            : sql`${sessions.userId} = ${userId} and ${sessions.id} <> ${except}`;
        return sortedIds(await db.delete(sessions).where(where).returning({ id: sessions.id }));
      }),
    deleteExpired: (now) =>
      guarded(async () =>
        sortedIds(
          await db
            .delete(sessions)
            .where(sql`${sessions.expiresAt} <= ${now.toISOString()}`)
            .returning({ id: sessions.id }),
        ),
      ),
  };
}
