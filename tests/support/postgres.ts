import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';

/**
 * The PostgreSQL the tests create their databases in (the machine's service, trust auth). Each test
 * file gets its own database, created on first use and dropped at the end: see createTestDatabase.
 */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const inCi = process.env.CI === 'true';

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || String(error) : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL cannot be used, or null when it answers. */
export const postgresUnreachable = await probe();

/**
 * `describe` for PostgreSQL tests. Without a reachable server they are skipped locally with the
 * reason; with CI=true they run anyway and fail on the connection, never skip.
 */
export const describePostgres = postgresUnreachable === null || inCi ? describe : describe.skip;
if (postgresUnreachable !== null) {
  const note = `PostgreSQL at ${TEST_POSTGRES_URL} is unreachable (${postgresUnreachable})`;
  if (inCi) console.error(`${note}: the PostgreSQL tests will fail (CI=true).`);
  else console.warn(`Skipping PostgreSQL tests: ${note}. Start it or set TEST_POSTGRES_URL.`);
}

export function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Refuses (or again allows) new connections to a database, as a database being restored or
 * maintained does, and ends the ones open: the server's next connection attempt gets a FATAL error.
 */
export async function refuseConnections(database: string, refuse: boolean): Promise<void> {
  await admin(async (client) => {
    await client.query(`alter database "${database}" allow_connections ${refuse ? 'false' : 'true'}`);
    if (refuse) {
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    }
  });
}

const PREFIX = 'atlas_test_';
let created = 0;
let sweep: Promise<void> | undefined;

/** Drops databases left by test processes that died before their clean-up (their pid is gone). */
async function dropOrphans(): Promise<void> {
  await admin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname like '${PREFIX}%'`,
    );
    for (const { datname } of rows) {
      const pid = Number(/^atlas_test_(\d+)_/.exec(datname)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      try {
        process.kill(pid, 0);
      } catch {
        await client.query(`drop database if exists "${datname}" with (force)`).catch(() => {});
      }
    }
  });
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Empties every table and restarts the id sequences: ids start at 1 again, as on a new database. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

/** A new, empty database (no tables: a Store applies the migrations when it opens). */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (postgresUnreachable !== null) {
    throw new Error(`PostgreSQL at ${TEST_POSTGRES_URL} is unreachable: ${postgresUnreachable}`);
  }
  sweep ??= dropOrphans();
  await sweep;
  created += 1;
  const name = `${PREFIX}${process.pid}_${created}_${randomBytes(3).toString('hex')}`;
  await admin(async (client) => {
    // A linguistic collation (ICU en-US), as many production servers have (en_US.UTF-8): it would
    // sort "Bob" after "alice" and ignore "-" and "_", so the tests prove that the schema's byte-order
    // columns keep lists ordered as SQLite orders them. Plain CREATE where ICU is missing.
    try {
      await client.query(
        `create database "${name}" template template0 locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'`,
      );
    } catch {
      await client.query(`create database "${name}"`);
    }
  });
  const url = databaseUrl(name);
  return {
    name,
    url,
    async reset() {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        const { rows } = await client.query<{ tablename: string }>(
          "select tablename from pg_tables where schemaname = 'public'",
        );
        if (rows.length > 0) {
          const tables = rows.map((row) => `"${row.tablename}"`).join(', ');
          await client.query(`truncate ${tables} restart identity cascade`);
        }
      } finally {
        await client.end().catch(() => {});
      }
    },
    async drop() {
      await admin((client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

export interface HeldLock {
  /** How many sessions of this database wait on a lock right now (behind this one, or queued behind those). */
  waiters(): Promise<number>;
  /** Ends the transaction (rollback) and the connection. */
  release(): Promise<void>;
  /** The backend pid holding the lock. */
  pid: number;
}

/**
 * Runs `lockSql` (e.g. `select 1 from rooms where id = $1 for update`) in a transaction left open on
 * its own connection, so other sessions queue behind it: a deterministic way to make concurrent
 * writers meet at the same moment, or to keep a query in flight.
 */
export async function holdLock(url: string, lockSql: string, params: unknown[] = []): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  await client.query('begin');
  await client.query(lockSql, params);
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const pid = rows[0]?.pid as number;
  return {
    pid,
    async waiters() {
      // Inside a transaction, pg_stat_activity is read once and then served from a snapshot:
      // without clearing it, every poll after the first would see the same count.
      await client.query('select pg_stat_clear_snapshot()');
      const result = await client.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
      );
      return Number(result.rows[0]?.n);
    },
    async release() {
      await client.query('rollback').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/** Terminates every connection a Store opened to `database` (its pool's, application_name atlas-chat). */
export async function terminateStoreConnections(database: string): Promise<number> {
  return admin(async (client) => {
    const { rows } = await client.query<{ terminated: boolean }>(
      `select pg_terminate_backend(pid) as terminated from pg_stat_activity
        where datname = $1 and application_name = 'atlas-chat' and pid <> pg_backend_pid()`,
      [database],
    );
    return rows.filter((row) => row.terminated).length;
  });
}
