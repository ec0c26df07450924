import { describe, test } from 'vitest';
import { openPostgresStore } from '../../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../server/store/sqlite/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { createTestDatabase, describePostgres, type TestDatabase } from './postgres.ts';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

/**
 * The backend a whole suite runs on when it does not loop over both: TEST_STORE=postgres
 * (default sqlite). Meant for running the API suite once per backend (e.g. two vitest projects).
 */
export function suiteBackend(): Backend {
  const value = process.env.TEST_STORE || 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres')
    throw new Error(`TEST_STORE must be sqlite or postgres, not ${value}`);
  return value;
}

/** The file's PostgreSQL database, created on first use only (SQLite-only tests never touch PostgreSQL). */
export interface LazyTestDatabase {
  get(): Promise<TestDatabase>;
}

export interface StoreFixtures {
  /** Which backend `store` and `openStore` use; `describeEachBackend` sets it per describe. */
  backend: Backend;
  /** This file's PostgreSQL database (file scope). */
  postgres: LazyTestDatabase;
  /**
   * Opens a Store on this test's database, empty at the test's start (ids from 1). Each further call
   * opens one more Store on the same database (on PostgreSQL a separate pool, as another server
   * process would have), or with `fresh: true` on an emptied one (SQLite: a new database). All are
   * closed after the test.
   */
  /**
   * `connectTimeoutMs` also bounds the wait for a free pooled connection (node-postgres): a test that
   * queues many more calls than connections on a loaded machine may need more than the default.
   */
  openStore: (options?: { poolSize?: number; fresh?: boolean; connectTimeoutMs?: number }) => Promise<Store>;
  /** The first Store of openStore. */
  store: Store;
}

export const storeTest = test.extend<StoreFixtures>({
  backend: 'sqlite',
  postgres: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
    async ({}, use) => {
      let database: Promise<TestDatabase> | undefined;
      await use({
        get: () => {
          database ??= createTestDatabase();
          return database;
        },
      });
      if (database) await (await database).drop();
    },
    { scope: 'file' },
  ],
  openStore: async ({ backend, postgres }, use) => {
    const opened: Store[] = [];
    await use(async (options) => {
      const fresh = options?.fresh === true || opened.length === 0;
      let store: Store;
      if (backend === 'sqlite') {
        // In memory: a second store on the same database would need a file, which no test needs.
        if (!fresh) throw new Error('openStore: a second SQLite store must be fresh');
        store = openSqliteStore({ path: ':memory:' });
      } else {
        const database = await postgres.get();
        if (fresh) await database.reset();
        store = await openPostgresStore({
          url: database.url,
          poolSize: options?.poolSize ?? 4,
          connectTimeoutMs: options?.connectTimeoutMs,
        });
      }
      opened.push(store);
      return store;
    });
    await Promise.all(opened.map((store) => store.close()));
  },
  store: async ({ openStore }, use) => {
    await use(await openStore());
  },
});

/** Declares the same tests once per backend, each in its own describe with storeTest's backend set. */
export function describeEachBackend(title: string, body: (backend: Backend) => void): void {
  for (const backend of BACKENDS) {
    const describeOn = backend === 'postgres' ? describePostgres : describe;
    describeOn(`${title} (${backend})`, () => {
      storeTest.override({ backend });
      body(backend);
    });
  }
}

export interface TestDatabaseEnv {
  /** What to add to a test server's environment (startTestServer's `env`). */
  env: { DATABASE_PATH: string } | { DATABASE_URL: string };
  /** Removes the database (PostgreSQL: drops it; SQLite: the caller removes its temp directory). */
  drop(): Promise<void>;
}

/**
 * An empty database of `backend` for one test server: for running the API suite on either backend
 * (startTestServer can take `suiteBackend()` and spread `env` into its configuration, keeping the
 * same database across restart()).
 */
export async function testDatabaseEnv(backend: Backend, sqlitePath: string): Promise<TestDatabaseEnv> {
  if (backend === 'sqlite') return { env: { DATABASE_PATH: sqlitePath }, drop: async () => {} };
  const database = await createTestDatabase();
  return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
}

/** A page request large enough for a whole list in these tests. */
export const ALL = { after: undefined, limit: 10_000 } as const;

/** The rows of a page, for comparing a whole list. */
export async function rows<Row>(page: Promise<{ rows: Row[] }>): Promise<Row[]> {
  return (await page).rows;
}
