import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from '../../db/schema-pg.ts';
import { guarded } from './errors.ts';

export type PgDb = NodePgDatabase<typeof schema>;

/**
 * One key for "atlas-chat is migrating this database" (the single-bigint advisory lock space; the
 * per-author post locks use the two-int space, which does not overlap).
 */
export const MIGRATION_LOCK_KEY = 0x61746c6173n; // "atlas"

/** Connecting (or waiting for a free pooled connection) longer than this is "unavailable": 503. */
export const CONNECT_TIMEOUT_MS = 5000;

export interface PoolOptions {
  url: string;
  /** Connections kept at most (DATABASE_POOL_SIZE). */
  size: number;
  /**
   * A pooled connection failed while nobody was using it (the server restarted, or
   * pg_terminate_backend): the pool drops it and the next query opens a fresh one. Without a
   * listener, node-postgres would throw the 'error' event and kill the process.
   */
  onConnectionError?: (error: Error) => void;
  /** CONNECT_TIMEOUT_MS unless given (tests shorten it). */
  connectTimeoutMs?: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.size,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'atlas-chat',
  });
  const onError = (error: Error) => options.onConnectionError?.(error);
  pool.on('error', onError);
  // A connection that dies while checked out (between two statements of a transaction) emits
  // 'error' on the client, where the pool no longer listens: listen on every client for good.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/**
 * Applies pending migrations (drizzle/postgres) exactly once however many processes start at the
 * same moment: each takes a session-level advisory lock on one dedicated connection, runs Drizzle's
 * migrator on that same connection, and unlocks. The others wait on the lock, then find nothing to
 * apply. Drizzle's migrator alone is not safe here: its CREATE SCHEMA/TABLE IF NOT EXISTS race, and
 * two processes would both apply the same migration.
 */
export async function migrateWithLock(pool: pg.Pool, migrationsFolder: string): Promise<void> {
  await guarded(async () => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      try {
        await migrate(drizzle(client, { schema }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
      }
    } catch (error) {
      // A session lock dies with its connection: never hand this connection back to the pool if
      // the unlock may not have run.
      broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  });
}

export function drizzleOver(pool: pg.Pool): PgDb {
  return drizzle(pool, { schema });
}
