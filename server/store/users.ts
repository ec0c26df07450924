import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { users } from '../db/schema.ts';

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string;
}

/** Case-insensitive lookup; the expression matches the unique index on lower(username). */
export function findUserByUsername(db: Db, username: string): UserRow | undefined {
  return db
    .select({ id: users.id, username: users.username, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.toLowerCase()))
    .get();
}

/** Inserts a user, or returns undefined when the name is taken in any letter case. */
export function insertUser(db: Db, username: string, passwordHash: string): UserRow | undefined {
  return db
    .insert(users)
    .values({ username, passwordHash })
    .onConflictDoNothing()
    .returning({ id: users.id, username: users.username, passwordHash: users.passwordHash })
    .get();
}

export function updatePasswordHash(db: Db, userId: number, passwordHash: string): void {
  db.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
}
