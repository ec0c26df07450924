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
