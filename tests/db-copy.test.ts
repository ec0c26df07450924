import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CopyRefusedError, copyDatabase } from '../scripts/db-copy/copy.ts';
import { openPostgresStore } from '../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import type { NewMessage, RoomRow, SessionUser, Store } from '../server/store/store.ts';
import { createTestDatabase, describePostgres, type TestDatabase } from './support/postgres.ts';

const TABLES = {
  users: 'id',
  sessions: 'id',
  rooms: 'id',
  memberships: 'room_id, user_id',
  messages: 'id',
} as const;
const TIMESTAMP_COLUMNS = new Set(['created_at', 'expires_at', 'last_message_at', 'joined_at']);
const MESSAGES = 3000;

type Dump = Record<string, Record<string, unknown>[]> & { lastIds: Record<string, number> };

/** Every row of every table, straight from the driver: timestamps as epoch ms, integers as numbers. */
function normalise(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([column, value]) => {
      if (value instanceof Date) return [column, value.getTime()];
      if (typeof value === 'string' && /^\d+$/.test(value) && !TIMESTAMP_COLUMNS.has(column) && column !== 'text') {
        // bigint columns arrive from pg as strings
        return [
          column,
          column.endsWith('id') || column.endsWith('count') || column.endsWith('seq') ? Number(value) : value,
        ];
      }
      return [column, value];
    }),
  );
}

function dumpSqlite(path: string): Dump {
  const sqlite = new Database(path, { readonly: true });
  try {
    const dump: Record<string, unknown> = {};
    for (const [table, key] of Object.entries(TABLES)) {
      dump[table] = (sqlite.prepare(`select * from ${table} order by ${key}`).all() as Record<string, unknown>[]).map(
        normalise,
      );
    }
    const sequences = sqlite.prepare('select name, seq from sqlite_sequence order by name').all() as {
      name: string;
      seq: number;
    }[];
    dump.lastIds = Object.fromEntries(sequences.map((row) => [row.name, row.seq]));
    return dump as Dump;
  } finally {
    sqlite.close();
  }
}

async function dumpPostgres(url: string): Promise<Dump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const dump: Record<string, unknown> = {};
    for (const [table, key] of Object.entries(TABLES)) {
      dump[table] = (await client.query(`select * from ${table} order by ${key}`)).rows.map(normalise);
    }
    const lastIds: Record<string, number> = {};
    for (const table of ['messages', 'rooms', 'sessions', 'users']) {
      const { rows } = await client.query(`select last_value, is_called from ${table}_id_seq`);
      if (rows[0]?.is_called) lastIds[table] = Number(rows[0].last_value);
    }
    dump.lastIds = lastIds;
    return dump as Dump;
  } finally {
    await client.end();
  }
}

/**
 * A database as the server leaves it after some use: users, live and deleted sessions (so the id
 * counters are ahead of the newest ids), rooms (every join of an existing room takes a room id too),
 * memberships, MESSAGES messages over three rooms, some with clientIds.
 */
async function fill(store: Store): Promise<void> {
  const users: SessionUser[] = [];
  for (let index = 0; index < 6; index += 1) {
    const row = await store.users.insert(`user_${index}`, `$argon2id$v=19$m=19456,t=2,p=1$hash${index}`);
    if (!row) throw new Error('taken');
    users.push({ id: row.id, username: row.username });
  }
  const now = Date.parse('2025-06-01T12:00:00.000Z');
  for (const [index, user] of users.entries()) {
    await store.sessions.insert(user.id, `token-${index}`, new Date(now + index * 1000));
  }
  await store.sessions.deleteExpired(new Date(now + 2500));
  const rooms: RoomRow[] = [];
  for (const name of ['general', 'random', 'ops']) {
    for (const user of users) {
      const { room } = await store.rooms.join(user.id, name, new Date(now + user.id));
      if (!rooms.some((known) => known.id === room.id)) rooms.push(room);
    }
  }
  await store.rooms.join(users[0]?.id as number, 'empty', new Date(now));
  const inputs: NewMessage[] = Array.from({ length: MESSAGES }, (_, index) => ({
    room: rooms[index % 3] as RoomRow,
    author: users[index % users.length] as SessionUser,
    text: `message ${index} ${'é✓'.repeat(index % 5)}`,
    clientId: index % 4 === 0 ? `client-${index}` : null,
    now: new Date(now + index * 37),
  }));
  for (let start = 0; start < inputs.length; start += 250) {
    await store.messages.insertBatch(inputs.slice(start, start + 250));
  }
}

describePostgres('npm run db:copy', { timeout: 120_000 }, () => {
  let dir: string;
  let source: string;
  let database: TestDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atlas-copy-'));
    source = join(dir, 'source.db');
    const store = openSqliteStore({ path: source });
    await fill(store);
    await store.close();
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies SQLite -> PostgreSQL -> SQLite, equal table by table, id counters included', async () => {
    const progress: string[] = [];
    const summary = await copyDatabase({
      from: source,
      to: database.url,
      batchSize: 400,
      onProgress: ({ table, copied, total }) => progress.push(`${table} ${copied}/${total}`),
    });
    expect(summary).toEqual({ users: 6, sessions: 3, rooms: 4, memberships: 19, messages: MESSAGES });
    // Progress in batches, bounded by batchSize rows in memory.
    expect(progress).toContain('messages 400/3000');
    expect(progress.at(-1)).toBe('messages 3000/3000');

    const back = join(dir, 'back.db');
    await copyDatabase({ from: database.url, to: back, batchSize: 700 });

    const original = dumpSqlite(source);
    expect(original.lastIds).toEqual({ users: 6, sessions: 6, rooms: 19, messages: MESSAGES });
    expect(await dumpPostgres(database.url)).toEqual(original);
    expect(dumpSqlite(back)).toEqual(original);

    // The next ids continue where the original's would, on both copies.
    const postgres = await openPostgresStore({ url: database.url, poolSize: 1 });
    const sqlite = openSqliteStore({ path: back });
    try {
      for (const store of [postgres, sqlite]) {
        const general = (await store.rooms.find('general')) as RoomRow;
        const author = (await store.users.findByUsername('USER_1')) as SessionUser;
        expect(await store.sessions.insert(author.id, `new-token-${store.description}`, new Date())).toBe(7);
        expect(
          await store.messages.insertOne({
            room: general,
            author,
            text: 'after the copy',
            clientId: null,
            now: new Date(),
          }),
        ).toMatchObject({ kind: 'inserted', message: { id: MESSAGES + 1, seq: MESSAGES / 3 + 1 } });
        expect(await store.rooms.join(author.id, 'brand-new', new Date())).toMatchObject({ room: { id: 20 } });
        expect((await store.users.insert('user_6', 'h'))?.id).toBe(7);
      }
    } finally {
      await postgres.close();
      await sqlite.close();
    }
  });

  it('refuses a non-empty target, and --replace copies over it', async () => {
    const before = await dumpPostgres(database.url);
    await expect(copyDatabase({ from: source, to: database.url })).rejects.toBeInstanceOf(CopyRefusedError);
    await expect(copyDatabase({ from: source, to: database.url })).rejects.toThrow(/not empty \(users: 7,/);
    expect(await dumpPostgres(database.url)).toEqual(before);
    await copyDatabase({ from: source, to: database.url, replace: true });
    expect(await dumpPostgres(database.url)).toEqual(dumpSqlite(source));
  });

  it('refuses a source that does not exist instead of copying an empty database', async () => {
    await expect(copyDatabase({ from: join(dir, 'typo.db'), to: join(dir, 'out.db') })).rejects.toThrow(
      /no SQLite database at/,
    );
  });

  it('runs from the command line with progress, and says why it refuses', () => {
    const target = join(dir, 'cli.db');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/db-copy.ts', ...args], { encoding: 'utf8' });
    const copied = run('--from', database.url, '--to', target);
    expect(copied.stderr).toContain(`messages: ${MESSAGES}/${MESSAGES} (100%)`);
    expect(copied.stderr).toMatch(/done in [\d.]+ s: 6 users, 3 sessions, 4 rooms, 19 memberships, 3000 messages/);
    expect(copied.status).toBe(0);
    const again = run('--from', database.url, '--to', target);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('refused:');
    expect(again.stderr).toContain('--replace');
    expect(run('--from', source).status).toBe(2);
  });
});
