import { defaultMigrationsDir } from '../migrations-dir.ts';
import type { Store } from '../store.ts';
import { guarded } from './errors.ts';
import { pgMessageStore } from './messages.ts';
import { createPool, drizzleOver, migrateWithLock } from './open.ts';
import { pgRoomStore } from './rooms.ts';
import { pgSearcher } from './search.ts';
import { pgStatsStore } from './stats.ts';
import { pgSessionStore, pgUserStore } from './users.ts';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (DATABASE_URL). */
  url: string;
  /** Connections at most (DATABASE_POOL_SIZE). */
  poolSize: number;
  /** drizzle/postgres unless given. */
  migrationsDir?: string;
  /** A pooled connection failed while idle (logged; the pool replaces it on the next query). */
  onConnectionError?: (error: Error) => void;
  /**
   * A post batch hit a deadlock (40P01) or serialization failure (40001) and runs again: not
   * expected (every lock is taken in one order), so worth a warning in the log.
   */
  onRetry?: (sqlState: string, attempt: number) => void;
  /** How long to wait for a connection before answering "unavailable" (CONNECT_TIMEOUT_MS, 5 s). */
  connectTimeoutMs?: number;
}

/** host:port/database, never the user or password: for logs. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname || '/'}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * The shared backend: drizzle-orm/node-postgres over a pg.Pool. Opening applies pending migrations
 * under an advisory lock (open.ts) and rejects with StoreUnavailableError when the server cannot be
 * reached. Posts go through atlas_insert_messages (messages.ts), one statement per batch.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = createPool({
    url: options.url,
    size: options.poolSize,
    onConnectionError: options.onConnectionError,
    connectTimeoutMs: options.connectTimeoutMs,
  });
  try {
    await migrateWithLock(pool, options.migrationsDir ?? defaultMigrationsDir('postgres'));
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const db = drizzleOver(pool);
  let closed: Promise<void> | undefined;
  return {
    description: `postgres ${describePostgresUrl(options.url)}`,
    users: pgUserStore(db),
    sessions: pgSessionStore(db),
    rooms: pgRoomStore(db),
    messages: { ...pgMessageStore(db, pool, options.onRetry), search: pgSearcher(db, pool) },
    stats: pgStatsStore(db),
    ping: () =>
      guarded(async () => {
        await pool.query('select 1');
      }),
    close: () => {
      closed ??= pool.end();
      return closed;
    },
  };
}
