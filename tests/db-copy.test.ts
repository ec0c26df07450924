import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getTableColumns, getTableName } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CopyRefusedError, copyDatabase } from '../scripts/db-copy/copy.ts';
import * as pgSchema from '../server/db/schema-pg.ts';
import { openPostgresStore } from '../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import type { ChangeResult, NewMessage, RoomRow, SessionUser, Store } from '../server/store/store.ts';
import { createTestDatabase, describePostgres, type TestDatabase } from './support/postgres.ts';

/** Every table of the database (the test checks that none is left out), by SQL name, with its key. */
const TABLES = {
  users: 'id',
  sessions: 'id',
  rooms: 'id',
  memberships: 'room_id, user_id',
  messages: 'id',
  reactions: 'id',
  message_changes: 'room_id, change',
  message_mentions: 'message_id, user_id',
} as const;
const ID_TABLES = ['messages', 'reactions', 'rooms', 'sessions', 'users'];
const MESSAGES = 3000;

type Dump = Record<string, Record<string, unknown>[]> & { lastIds: Record<string, number> };

/**
 * Per table, the columns the schema reads as JS numbers. pg hands bigints over as strings (they may
 * not fit a double); the schema says which of them are numbers, so a new column needs no list here.
 */
const NUMBER_COLUMNS = new Map<string, Set<string>>(
  Object.values(pgSchema).map((table) => [
    getTableName(table),
    new Set(
      Object.values(getTableColumns(table))
        .filter((column) => column.dataType === 'number')
        .map((column) => column.name),
    ),
  ]),
);

/** A row straight from the driver, as both backends can agree on: timestamps as epoch ms, numbers as numbers. */
function normalise(table: string, row: Record<string, unknown>): Record<string, unknown> {
  const numbers = NUMBER_COLUMNS.get(table);
  if (!numbers) throw new Error(`${table} is not in schema-pg.ts`);
  return Object.fromEntries(
    Object.entries(row)
      // PostgreSQL's generated search vector (decision 020) is derived from the text, not copied.
      .filter(([column]) => !(table === 'messages' && column === 'search'))
      .map(([column, value]) => {
        if (value instanceof Date) return [column, value.getTime()];
        if (typeof value === 'string' && numbers.has(column)) return [column, Number(value)];
        return [column, value];
      }),
  );
}

function dumpSqlite(path: string): Dump {
  const sqlite = new Database(path, { readonly: true });
  try {
    // A table the copy leaves out must not hide behind a dump that leaves it out too. The FTS5 index
    // (messages_fts and its shadow tables) is not copied: the target's triggers rebuild it per message.
    const present = sqlite
      .prepare(
        `select name from sqlite_master where type = 'table' and name not in ('sqlite_sequence', '__drizzle_migrations')
           and name not like 'messages_fts%'`,
      )
      .all() as { name: string }[];
    expect(present.map((row) => row.name).sort()).toEqual(Object.keys(TABLES).sort());
    const dump: Record<string, unknown> = {};
    for (const [table, key] of Object.entries(TABLES)) {
      dump[table] = (sqlite.prepare(`select * from ${table} order by ${key}`).all() as Record<string, unknown>[]).map(
        (row) => normalise(table, row),
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
      dump[table] = (await client.query(`select * from ${table} order by ${key}`)).rows.map((row) =>
        normalise(table, row),
      );
    }
    const lastIds: Record<string, number> = {};
    for (const table of ID_TABLES) {
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
 * memberships, MESSAGES messages over three rooms, some with clientIds, some replies; then in each
 * room edits, reactions (one taken back, so the reaction counter is ahead of the newest id), deletes
 * (of a reacted-to message, whose reactions go, and of a replied-to one), all in the change log.
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
  // Message `index` is seq index / 3 + 1 of room index % 3; a reply quotes the one 30 before it.
  const seqOf = (index: number) => Math.floor(index / 3) + 1;
  const inputs: NewMessage[] = [];
  for (let index = 0; index < MESSAGES; index += 1) {
    const quoted = index % 100 === 50 ? inputs[index - 30] : undefined;
    inputs.push({
      room: rooms[index % 3] as RoomRow,
      author: users[index % users.length] as SessionUser,
      text: `message ${index} ${'é✓'.repeat(index % 5)}${index % 50 === 7 ? ' cc @User_1' : ''}`,
      mentions: index % 50 === 7 ? ['user_1'] : [],
      clientId: index % 4 === 0 ? `client-${index}` : null,
      now: new Date(now + index * 37),
      replyTo: quoted
        ? { seq: seqOf(index - 30), author: quoted.author.username, text: quoted.text, deleted: false }
        : null,
    });
  }
  for (let start = 0; start < inputs.length; start += 250) {
    await store.messages.insertBatch(inputs.slice(start, start + 250));
  }
  const later = new Date(now + MESSAGES * 37);
  for (const room of rooms.slice(0, 3)) {
    const changed = async (result: Promise<ChangeResult>) => expect((await result).kind).toBe('changed');
    await changed(store.messages.edit(room, 7, 'edited once', later));
    await changed(store.messages.edit(room, 7, 'edited twice ✓', new Date(later.getTime() + 1000)));
    for (const user of users.slice(0, 4)) await changed(store.messages.react(room, 10, user.id, '👍'));
    await changed(store.messages.react(room, 10, users[1]?.id as number, '🎉'));
    await changed(store.messages.unreact(room, 10, users[2]?.id as number, '👍'));
    await changed(store.messages.react(room, 11, users[4]?.id as number, '❤️'));
    await changed(store.messages.delete(room, 11, later));
    // Seq 7 of this room is quoted by seq 17 (message 50): the delete also updates the reply.
    if (room.name === 'ops') await changed(store.messages.delete(room, 7, later));
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
    const original = dumpSqlite(source);
    const changeLog = original.message_changes?.length as number;
    // Per room 2 edits, 7 reaction changes, 1 delete. In ops seq 7 is quoted by seq 17, so each of its
    // 2 edits and its delete also update the reply: 4 more.
    expect(changeLog).toBe(34);
    expect(summary).toEqual({
      users: 6,
      sessions: 3,
      rooms: 4,
      memberships: 19,
      messages: MESSAGES,
      reactions: 12,
      message_mentions: 60,
      message_changes: changeLog,
    });
    // Progress in batches, bounded by batchSize rows in memory.
    expect(progress).toContain('messages 400/3000');
    expect(progress).toContain('messages 3000/3000');
    expect(progress).toContain(`message_changes ${changeLog}/${changeLog}`);
    expect(progress.at(-1)).toBe('message_mentions 60/60');

    const back = join(dir, 'back.db');
    await copyDatabase({ from: database.url, to: back, batchSize: 700 });

    // Reaction 18 was on the deleted seq 11 of ops: the counter is ahead of the newest reaction.
    expect(original.lastIds).toEqual({ users: 6, sessions: 6, rooms: 19, messages: MESSAGES, reactions: 18 });
    expect(await dumpPostgres(database.url)).toEqual(original);
    expect(dumpSqlite(back)).toEqual(original);

    // A live client resumes on either copy from the change it last saw on the original, with what
    // the original would have sent it; then the next ids and changes continue where the original's
    // would.
    const originalStore = openSqliteStore({ path: source });
    const postgres = await openPostgresStore({ url: database.url, poolSize: 1 });
    const sqlite = openSqliteStore({ path: back });
    try {
      const missed = async (store: Store) => {
        const ops = (await store.rooms.find('ops')) as RoomRow;
        return store.messages.changes(ops, 995, 100);
      };
      const expected = await missed(originalStore);
      expect(expected.changes.map((change) => change.type)).toContain('update');
      for (const store of [postgres, sqlite]) expect(await missed(store)).toEqual(expected);
      const generalChanges = original.rooms?.find((room) => room.name === 'general')?.last_change as number;
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
        ).toMatchObject({
          kind: 'inserted',
          message: { id: MESSAGES + 1, seq: MESSAGES / 3 + 1 },
          change: generalChanges + 1,
        });
        expect(await store.rooms.join(author.id, 'brand-new', new Date())).toMatchObject({ room: { id: 20 } });
        expect((await store.users.insert('user_6', 'h'))?.id).toBe(7);
      }
    } finally {
      await originalStore.close();
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
    expect(copied.stderr).toMatch(
      /done in [\d.]+ s: 6 users, 3 sessions, 4 rooms, 19 memberships, 3000 messages, 12 reactions, 34 message_changes, 60 message_mentions\n/,
    );
    expect(copied.status).toBe(0);
    const again = run('--from', database.url, '--to', target);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('refused:');
    expect(again.stderr).toContain('--replace');
    expect(run('--from', source).status).toBe(2);
  });
});
