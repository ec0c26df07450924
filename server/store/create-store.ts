import type { Config } from '../config.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface CreateStoreOptions {
  /** The folder holding sqlite/ and postgres/ migrations (the package's drizzle/ unless given). */
  migrationsDir?: string;
  /** A pooled PostgreSQL connection failed while idle; the pool replaces it. For the log. */
  onConnectionError?: (error: Error) => void;
  /** A PostgreSQL post batch was retried after a deadlock or serialization failure. For the log. */
  onRetry?: (sqlState: string, attempt: number) => void;
}

/**
 * Opens the configured backend and applies its pending migrations: PostgreSQL when DATABASE_URL is
 * set, else SQLite at DATABASE_PATH. Rejects with StoreUnavailableError when PostgreSQL cannot be
 * reached.
 */
export async function createStore(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_PATH' | 'DATABASE_POOL_SIZE'>,
  options: CreateStoreOptions = {},
): Promise<Store> {
  const folder = (backend: 'sqlite' | 'postgres') =>
    options.migrationsDir === undefined ? undefined : `${options.migrationsDir}/${backend}`;
  if (config.DATABASE_URL !== undefined) {
    return openPostgresStore({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      migrationsDir: folder('postgres'),
      onConnectionError: options.onConnectionError,
      onRetry: options.onRetry,
    });
  }
  return openSqliteStore({ path: config.DATABASE_PATH, migrationsDir: folder('sqlite') });
}
