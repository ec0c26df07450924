import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import { StoreUnavailableError } from '../server/store/errors.ts';
import { defaultMigrationsDir } from '../server/store/migrations-dir.ts';
import { openPostgresStore } from '../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import {
  CHANGE_LOG_LENGTH,
  type ChangeResult,
  type InsertResult,
  type MessageDto,
  type NewMessage,
  type RoomRow,
  type SessionUser,
  type Store,
  UNREAD_COUNT_CAP,
} from '../server/store/store.ts';
import { mentionCandidates } from '../shared/mentions.ts';
import { createTestDatabase } from './support/postgres.ts';
import { ALL, type Backend, describeEachBackend, rows, storeTest as test } from './support/stores.ts';

const T0 = Date.parse('2025-03-04T05:06:07.891Z');
const at = (offsetMs: number) => new Date(T0 + offsetMs);

async function user(store: Store, username: string): Promise<SessionUser> {
  const row = await store.users.insert(username, `hash of ${username}`);
  if (!row) throw new Error(`${username} taken`);
  return { id: row.id, username: row.username };
}

async function room(store: Store, member: SessionUser, name: string, now = at(0)): Promise<RoomRow> {
  return (await store.rooms.join(member.id, name, now)).room;
}

function post(room: RoomRow, author: SessionUser, text: string, clientId: string | null = null, now = at(1000)) {
  return { room, author, text, clientId, now } satisfies NewMessage;
}

/** A message as freshly posted at at(1000), keys in messageSchema's order; spread to change fields. */
function message(seq: number, author: string, text: string, room = 'general'): MessageDto {
  return {
    id: seq,
    room,
    seq,
    author,
    text,
    createdAt: at(1000).toISOString(),
    clientId: null,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    replyTo: null,
    mentions: [],
  };
}

const MESSAGE_KEYS = JSON.stringify(Object.keys(message(1, 'a', 'b')));

/** Both backends build every message with the keys in one order, so even their JSON is identical. */
function expectKeyOrder(value: MessageDto | InsertResult | ChangeResult | undefined): void {
  const messages =
    value === undefined
      ? []
      : 'id' in value
        ? [value]
        : value.kind === 'changed'
          ? [value.message, ...value.changes.map((change) => change.message)]
          : 'message' in value
            ? [value.message]
            : [];
  for (const each of messages) expect(JSON.stringify(Object.keys(each))).toBe(MESSAGE_KEYS);
}

/**
 * A database as the release before decision 019 left it (migrations up to the one before the change
 * counter's), with two users, two rooms and three posts written by that schema's rules; migrate()
 * applies the rest and opens a Store on it. `firstMissing` moves the cut: the same data as a later
 * release left it (its migrations up to the one before that tag's, e.g. decision 020's read markers).
 */
async function databaseBefore019(
  backend: Backend,
  firstMissing = '_message_changes',
): Promise<{ migrate(): Promise<Store>; drop(): Promise<void> }> {
  const shipped = defaultMigrationsDir(backend);
  const journal = JSON.parse(readFileSync(join(shipped, 'meta/_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  const cut = journal.entries.findIndex((entry) => entry.tag.endsWith(firstMissing));
  if (cut === -1) throw new Error(`no migration ${firstMissing} in ${shipped}`);
  const dir = mkdtempSync(join(tmpdir(), 'atlas-before-019-'));
  mkdirSync(join(dir, 'meta'));
  writeFileSync(
    join(dir, 'meta/_journal.json'),
    JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }),
  );
  for (const entry of journal.entries.slice(0, cut))
    copyFileSync(join(shipped, `${entry.tag}.sql`), join(dir, `${entry.tag}.sql`));
  // Portable SQL (double-quoted names); ids come from a new database's sequences: 1, 2, ...
  const statements = (time: (ms: number) => unknown) =>
    [
      [
        'insert into "users" ("username", "password_hash", "message_count") values (?, ?, ?), (?, ?, ?)',
        ['alice', 'h', 2, 'bob', 'h', 1],
      ],
      [
        'insert into "rooms" ("name", "last_seq", "message_count", "last_message_at") values (?, ?, ?, ?), (?, ?, ?, ?)',
        ['general', 3, 3, time(102), 'quiet', 0, 0, null],
      ],
      [
        'insert into "memberships" ("room_id", "user_id", "joined_at", "message_count") values (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)',
        [1, 2, time(5), 1, 1, 1, time(0), 2, 2, 2, time(0), 0],
      ],
      [
        'insert into "messages" ("room_id", "seq", "author_id", "text", "client_id", "created_at") values (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)',
        [1, 1, 1, 'one', null, time(100), 1, 2, 2, 'two', 'b1', time(101), 1, 3, 1, 'three', null, time(102)],
      ],
    ] as const;
  const opened: Store[] = [];
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  if (backend === 'sqlite') {
    const path = join(dir, 'old.db');
    await openSqliteStore({ path, migrationsDir: dir }).close();
    const sqlite = new Database(path);
    for (const [text, params] of statements((ms) => at(ms).getTime())) sqlite.prepare(text).run(...params);
    sqlite.close();
    return {
      migrate: async () => {
        const store = openSqliteStore({ path });
        opened.push(store);
        return store;
      },
      drop: async () => {
        await Promise.all(opened.map((store) => store.close()));
        cleanUp();
      },
    };
  }
  const database = await createTestDatabase();
  await (await openPostgresStore({ url: database.url, poolSize: 1, migrationsDir: dir })).close();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    for (const [text, params] of statements((ms) => at(ms).toISOString())) {
      let index = 0;
      await client.query(
        text.replace(/\?/g, () => `$${++index}`),
        [...params],
      );
    }
  } finally {
    await client.end();
  }
  return {
    migrate: async () => {
      const store = await openPostgresStore({ url: database.url, poolSize: 2 });
      opened.push(store);
      return store;
    },
    drop: async () => {
      await Promise.all(opened.map((store) => store.close()));
      await database.drop();
      cleanUp();
    },
  };
}

/** The inputs' answers when posted one by one. */
async function oneByOne(store: Store, inputs: NewMessage[]): Promise<InsertResult[]> {
  const results: InsertResult[] = [];
  for (const input of inputs) results.push(await store.messages.insertOne(input));
  return results;
}

describeEachBackend('Store contract', () => {
  test('users: insert, case-insensitive lookup and uniqueness, password change', async ({ store }) => {
    const alice = await store.users.insert('Alice', 'hash-a');
    expect(alice).toEqual({ id: 1, username: 'Alice', passwordHash: 'hash-a' });
    expect(await store.users.insert('aLICE', 'hash-b')).toBeUndefined();
    expect(await store.users.findByUsername('ALICE')).toEqual(alice);
    expect(await store.users.findByUsername('alice')).toEqual(alice);
    expect(await store.users.findByUsername('bob')).toBeUndefined();
    // The refused insert took an id on both backends (SQLite's AUTOINCREMENT and PostgreSQL's
    // identity both advance on ON CONFLICT DO NOTHING): ids stay equal across backends.
    expect(await store.users.insert('bob', 'hash-c')).toEqual({ id: 3, username: 'bob', passwordHash: 'hash-c' });
    await store.users.setPasswordHash(1, 'hash-new');
    expect((await store.users.findByUsername('alice'))?.passwordHash).toBe('hash-new');
  });

  test('users: sign-up stores the user and the first session together, or nothing when the name is taken', async ({
    store,
  }) => {
    const session = { tokenHash: 'token-signup', expiresAt: at(60_000) };
    const alice = await store.users.insertWithSession('Alice', 'hash-a', session);
    expect(alice).toMatchObject({ username: 'Alice', passwordHash: 'hash-a' });
    expect(await store.sessions.findUser('token-signup', at(0))).toMatchObject({ user: { username: 'Alice' } });
    const again = { tokenHash: 'token-again', expiresAt: at(60_000) };
    expect(await store.users.insertWithSession('alice', 'hash-b', again)).toBeUndefined();
    expect(await store.sessions.findUser('token-again', at(0))).toBeUndefined();
  });

  test('sessions: lookup until expiry, delete one, all of a user but one, and the expired', async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const first = await store.sessions.insert(alice.id, 'token-1', at(60_000));
    const second = await store.sessions.insert(alice.id, 'token-2', at(120_000));
    const third = await store.sessions.insert(alice.id, 'token-3', at(180_000));
    const bobs = await store.sessions.insert(bob.id, 'token-b', at(60_000));
    expect([first, second, third, bobs]).toEqual([1, 2, 3, 4]);

    expect(await store.sessions.findUser('token-1', at(59_999))).toEqual({ sessionId: 1, user: alice });
    // Expired at its expiry instant, not one millisecond later.
    expect(await store.sessions.findUser('token-1', at(60_000))).toBeUndefined();
    expect(await store.sessions.findUser('nope', at(0))).toBeUndefined();

    await store.sessions.delete(second);
    expect(await store.sessions.findUser('token-2', at(0))).toBeUndefined();
    expect(await store.sessions.deleteForUser(alice.id, { exceptSessionId: third })).toEqual([first]);
    expect(await store.sessions.findUser('token-3', at(0))).toEqual({ sessionId: third, user: alice });
    expect(await store.sessions.deleteExpired(at(60_000))).toEqual([bobs]);
    expect(await store.sessions.deleteExpired(at(60_000))).toEqual([]);
    expect(await store.sessions.deleteForUser(alice.id)).toEqual([third]);
    expect(await store.sessions.insert(bob.id, 'token-b2', at(60_000))).toBe(5);
    const many = [];
    for (let index = 0; index < 5; index += 1) many.push(await store.sessions.insert(bob.id, `bulk-${index}`, at(0)));
    expect(await store.sessions.deleteExpired(at(0))).toEqual(many);
  });

  test('rooms: join creates once, membership, members in join order, summaries', async ({ store }) => {
    const bob = await user(store, 'bob');
    const carol = await user(store, 'Carol');
    expect(await store.rooms.find('general')).toBeUndefined();
    expect(await store.rooms.join(bob.id, 'general', at(0))).toEqual({
      room: { id: 1, name: 'general' },
      created: true,
    });
    expect(await store.rooms.join(bob.id, 'general', at(5))).toEqual({
      room: { id: 1, name: 'general' },
      created: false,
    });
    expect(await store.rooms.join(carol.id, 'general', at(0))).toEqual({
      room: { id: 1, name: 'general' },
      created: false,
    });
    expect(await store.rooms.find('general')).toEqual({ id: 1, name: 'general' });
    expect(await store.rooms.isMember(1, bob.id)).toBe(true);
    expect(await store.rooms.join(bob.id, 'random', at(10))).toMatchObject({ created: true });
    const random = await store.rooms.find('random');
    if (!random) throw new Error('random not created');
    expect(await store.rooms.isMember(random.id, carol.id)).toBe(false);

    // Same join time: by username in byte order ("Carol" before "bob"); the rejoin kept bob's time.
    expect(await rows(store.rooms.members(1, ALL))).toEqual([
      { username: 'Carol', joinedAt: at(0), messageCount: 0 },
      { username: 'bob', joinedAt: at(0), messageCount: 0 },
    ]);
    const summary = await store.rooms.summary(1);
    expect(summary).toMatchObject({
      name: 'general',
      memberCount: 2,
      messageCount: 0,
      lastSeq: 0,
      lastMessageAt: null,
    });
    expect(new Date(summary?.createdAt ?? '').toISOString()).toBe(summary?.createdAt);
    expect(Math.abs(Date.parse(summary?.createdAt ?? '') - Date.now())).toBeLessThan(60_000);
    expect(await store.rooms.summary(999)).toBeUndefined();
    expect(await store.rooms.lastSeq(1)).toBe(0);
    await expect(store.rooms.lastSeq(999)).rejects.toThrow('not found');
  });

  test('rooms: list puts active rooms first (newest activity), then the others by name in byte order', async ({
    store,
  }) => {
    const bob = await user(store, 'bob');
    // Byte order: "-" (0x2d) < "_" (0x5f) < "b" (0x62). A linguistic collation would ignore the
    // punctuation and sort these differently.
    const names = ['ab', 'a_b', 'a-c', 'quiet', 'loud', 'louder'];
    const rooms = new Map<string, RoomRow>();
    for (const name of names) rooms.set(name, await room(store, bob, name));
    const get = (name: string) => rooms.get(name) as RoomRow;
    await store.messages.insertOne(post(get('loud'), bob, 'one', null, at(1000)));
    await store.messages.insertOne(post(get('louder'), bob, 'two', null, at(2000)));
    expect((await rows(store.rooms.list(ALL))).map((summary) => summary.name)).toEqual([
      'louder',
      'loud',
      'a-c',
      'a_b',
      'ab',
      'quiet',
    ]);
    expect((await rows(store.rooms.list(ALL)))[0]).toMatchObject({
      name: 'louder',
      memberCount: 1,
      messageCount: 1,
      lastSeq: 1,
      lastMessageAt: at(2000).toISOString(),
    });
  });

  test('messages: seqs per room, clientId duplicate and conflict without burning a seq', async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    const random = await room(store, alice, 'random');
    await store.rooms.join(bob.id, 'general', at(0));

    const first = await store.messages.insertOne(post(general, alice, 'hello', 'c1', at(1000)));
    expect(first).toEqual({
      kind: 'inserted',
      message: {
        id: 1,
        room: 'general',
        seq: 1,
        author: 'alice',
        text: 'hello',
        createdAt: at(1000).toISOString(),
        clientId: 'c1',
        editedAt: null,
        deletedAt: null,
        reactions: [],
        replyTo: null,
        mentions: [],
      },
      change: 1,
    });
    if (first.kind !== 'inserted') throw new Error('not inserted');
    // Same author, clientId, room and text: the stored message (its own time), nothing new.
    expect(await store.messages.insertOne(post(general, alice, 'hello', 'c1', at(5000)))).toEqual({
      kind: 'duplicate',
      message: first.message,
    });
    expect(await store.messages.insertOne(post(general, alice, 'hello again', 'c1'))).toEqual({
      kind: 'clientIdConflict',
    });
    expect(await store.messages.insertOne(post(random, alice, 'hello', 'c1'))).toEqual({ kind: 'clientIdConflict' });
    // clientIds are per author.
    expect(await store.messages.insertOne(post(general, bob, 'hello', 'c1'))).toMatchObject({
      kind: 'inserted',
      message: { id: 2, seq: 2, author: 'bob' },
    });
    expect(await store.messages.insertOne(post(random, alice, 'elsewhere'))).toMatchObject({
      kind: 'inserted',
      message: { id: 3, seq: 1, room: 'random', clientId: null },
    });
    expect(await store.messages.insertOne(post(general, alice, 'next'))).toMatchObject({
      kind: 'inserted',
      message: { id: 4, seq: 3 },
    });
    expect(await store.rooms.lastSeq(general.id)).toBe(3);
    const heads = await store.rooms.lastSeqs(['general', 'random', 'nowhere']);
    expect([...heads.entries()].sort()).toEqual([
      ['general', 3],
      ['random', 1],
    ]);
    expect((await store.rooms.lastSeqs([])).size).toBe(0);
  });

  test('messages: any text round-trips exactly, alone and in a batch', async ({ store }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    // Characters that array literals, SQL strings or JSON would need to escape, and non-ASCII ones.
    const texts = [
      'quotes " and \' and `',
      'braces {a,b} [1,2] and NULL',
      'back\\slash \\" and \\\\',
      'line one\nline two\ttabbed\r\n',
      'émoji 👩‍💻, CJK 漢字, RTL שלום, combining é',
      ' leading and trailing spaces ',
      'x'.repeat(4000),
    ];
    const results = [
      ...(await store.messages.insertBatch(texts.map((text, index) => post(general, alice, text, `t${index}`)))),
      await store.messages.insertOne(post(general, alice, texts[0] as string, 'alone')),
    ];
    expect(results.map((result) => (result.kind === 'inserted' ? result.message.text : result.kind))).toEqual([
      ...texts,
      texts[0],
    ]);
    const stored = await store.messages.list(general, { limit: 100 });
    expect(stored.messages.map((message) => message.text)).toEqual([...texts, texts[0]]);
    // And a retry with the same text is recognised as the same post.
    const retries = await store.messages.insertBatch(
      texts.map((text, index) => post(general, alice, text, `t${index}`)),
    );
    expect(retries.map((result) => result.kind)).toEqual(texts.map(() => 'duplicate'));
  });

  test('messages: a batch answers exactly as the same posts one by one', async ({ store, openStore }) => {
    const script = async (target: Store) => {
      const alice = await user(target, 'alice');
      const bob = await user(target, 'bob');
      const general = await room(target, alice, 'general');
      const random = await room(target, bob, 'random');
      await target.rooms.join(bob.id, 'general', at(1));
      const inputs = [
        post(general, alice, 'one', null, at(100)),
        post(random, bob, 'two', 'b1', at(101)),
        post(general, alice, 'three', 'a1', at(102)),
        post(general, alice, 'three', 'a1', at(103)), // duplicate of an earlier post of the batch
        post(general, alice, 'other', 'a1', at(104)), // conflict with it
        post(random, alice, 'three', 'a1', at(105)), // conflict: other room
        post(general, bob, 'four', 'b1', at(106)), // conflict with bob's b1 in random
        post(general, bob, 'five', 'a1', at(107)), // bob's own a1
        post(random, bob, 'six', null, at(108)),
        post(general, alice, 'seven', 'a2', at(109)),
      ];
      return { inputs, alice, bob, general, random };
    };
    const batched = await script(store);
    const batchResults = await store.messages.insertBatch(batched.inputs);
    const alone = await openStore({ fresh: true });
    const single = await script(alone);
    expect(batchResults).toEqual(await oneByOne(alone, single.inputs));
    expect(batchResults.map((result) => result.kind)).toEqual([
      'inserted',
      'inserted',
      'inserted',
      'duplicate',
      'clientIdConflict',
      'clientIdConflict',
      'clientIdConflict',
      'inserted',
      'inserted',
      'inserted',
    ]);

    // Every counter moved in the batch's transaction, as it did one by one.
    for (const target of [store, alone]) {
      expect(await target.rooms.lastSeq(batched.general.id)).toBe(4);
      expect(await target.rooms.lastSeq(batched.random.id)).toBe(2);
      expect(await rows(target.stats.roomCounts(ALL))).toEqual([
        { room: 'general', messageCount: 4 },
        { room: 'random', messageCount: 2 },
      ]);
      expect(await rows(target.stats.userCounts(ALL))).toEqual([
        { username: 'alice', messageCount: 3 },
        { username: 'bob', messageCount: 3 },
      ]);
      expect(await rows(target.stats.memberCounts(batched.general.id, ALL))).toEqual([
        { username: 'alice', messageCount: 3 },
        { username: 'bob', messageCount: 1 },
      ]);
      expect(await rows(target.stats.userRoomCounts(batched.bob.id, ALL))).toEqual([
        { room: 'random', messageCount: 2 },
        { room: 'general', messageCount: 1 },
      ]);
      expect(await target.stats.userCount(batched.alice.id)).toBe(3);
      expect(await target.stats.userCount(999)).toBe(0);
      expect(await target.rooms.summary(batched.general.id)).toMatchObject({
        messageCount: 4,
        lastSeq: 4,
        lastMessageAt: at(109).toISOString(),
      });
    }
    expect(await store.messages.insertBatch([])).toEqual([]);
  });

  test('messages: a batch with a post that cannot be stored rejects as a whole and stores nothing', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    await store.messages.insertOne(post(general, alice, 'before'));
    await expect(
      store.messages.insertBatch([
        post(general, alice, 'kept?'),
        post({ id: 999, name: 'ghost' }, alice, 'nowhere'),
        post(general, alice, 'kept?', 'k'),
      ]),
    ).rejects.toThrow();
    expect(await store.rooms.lastSeq(general.id)).toBe(1);
    expect(await store.stats.userCount(alice.id)).toBe(1);
    expect((await store.messages.list(general, { limit: 10 })).messages.map((message) => message.text)).toEqual([
      'before',
    ]);
    expect(await store.messages.insertOne(post(general, alice, 'after', 'k'))).toMatchObject({
      kind: 'inserted',
      message: { seq: 2 },
    });
  });

  test('messages: pages by seq in both directions, with hasMore', async ({ store }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    const other = await room(store, alice, 'other');
    await store.messages.insertBatch(
      Array.from({ length: 7 }, (_, index) => post(general, alice, `m${index + 1}`, null, at(index))),
    );
    await store.messages.insertOne(post(other, alice, 'elsewhere'));
    const seqs = async (page: { before?: number; after?: number; limit: number }) => {
      const result = await store.messages.list(general, page);
      return { seqs: result.messages.map((message) => message.seq), hasMore: result.hasMore };
    };
    expect(await seqs({ limit: 3 })).toEqual({ seqs: [5, 6, 7], hasMore: true });
    expect(await seqs({ limit: 7 })).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7], hasMore: false });
    expect(await seqs({ before: 5, limit: 3 })).toEqual({ seqs: [2, 3, 4], hasMore: true });
    expect(await seqs({ before: 2, limit: 3 })).toEqual({ seqs: [1], hasMore: false });
    expect(await seqs({ after: 4, limit: 2 })).toEqual({ seqs: [5, 6], hasMore: true });
    expect(await seqs({ after: 5, limit: 2 })).toEqual({ seqs: [6, 7], hasMore: false });
    expect(await seqs({ after: 7, limit: 2 })).toEqual({ seqs: [], hasMore: false });
    const page = await store.messages.list(general, { before: 2, limit: 1 });
    expect(page.messages).toEqual([
      {
        id: 1,
        seq: 1,
        author: 'alice',
        text: 'm1',
        createdAt: at(0).toISOString(),
        clientId: null,
        room: 'general',
        editedAt: null,
        deletedAt: null,
        reactions: [],
        replyTo: null,
        mentions: [],
      },
    ]);
  });

  test('messages: an edit changes text and editedAt, once; the same text is a no-op that keeps editedAt', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    await store.messages.insertOne(post(general, alice, 'helo', 'c1', at(1000)));
    expect(await store.rooms.lastChange(general.id)).toBe(1);

    const edited = await store.messages.edit(general, 1, 'hello', at(2000));
    const expected = {
      ...message(1, 'alice', 'hello'),
      clientId: 'c1',
      createdAt: at(1000).toISOString(),
      editedAt: at(2000).toISOString(),
    };
    expect(edited).toEqual({
      kind: 'changed',
      message: expected,
      changes: [{ change: 2, type: 'update', message: expected }],
    });
    expectKeyOrder(edited);
    expect(await store.messages.get(general, 1)).toEqual(expected);
    expect(await store.rooms.lastChange(general.id)).toBe(2);

    expect(await store.messages.edit(general, 1, 'hello', at(3000))).toEqual({ kind: 'unchanged', message: expected });
    expect(await store.rooms.lastChange(general.id)).toBe(2);
    expect(await store.messages.edit(general, 2, 'nothing there', at(3000))).toEqual({ kind: 'notFound' });
    expect(await store.messages.get(general, 2)).toBeUndefined();
    // Nothing of it counts as a post.
    expect(await store.rooms.summary(general.id)).toMatchObject({ messageCount: 1, lastSeq: 1 });
    // A retry of the post (its original text) is still recognised: the edited message, no new seq.
    expect(await store.messages.insertOne(post(general, alice, 'helo', 'c1'))).toEqual({
      kind: 'duplicate',
      message: expected,
    });
    // The clientId in another room is still a conflict.
    const random = await room(store, alice, 'random');
    expect(await store.messages.insertOne(post(random, alice, 'helo', 'c1'))).toEqual({ kind: 'clientIdConflict' });
    expect(await store.rooms.lastSeq(general.id)).toBe(1);
  });

  test('messages: a delete leaves a tombstone, takes the reactions and the message out of every count', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    await store.messages.insertBatch([
      post(general, alice, 'one', null, at(100)),
      post(general, alice, 'two', null, at(101)),
      post(general, bob, 'three', null, at(102)),
    ]);
    expect(await store.messages.react(general, 1, bob.id, '👍')).toMatchObject({ kind: 'changed' });
    expect(await store.messages.edit(general, 1, 'one!', at(150))).toMatchObject({ kind: 'changed' });

    const tombstone = {
      ...message(1, 'alice', ''),
      createdAt: at(100).toISOString(),
      editedAt: at(150).toISOString(),
      deletedAt: at(200).toISOString(),
    };
    const deleted = await store.messages.delete(general, 1, at(200));
    expect(deleted).toEqual({
      kind: 'changed',
      message: tombstone,
      changes: [{ change: 6, type: 'update', message: tombstone }],
    });
    expectKeyOrder(deleted);
    expect((await store.messages.list(general, { limit: 10 })).messages).toEqual([
      tombstone,
      { ...message(2, 'alice', 'two'), createdAt: at(101).toISOString() },
      { ...message(3, 'bob', 'three'), createdAt: at(102).toISOString() },
    ]);

    // Counts: the room, the author and the author's membership; seqs and activity stay.
    expect(await store.rooms.summary(general.id)).toMatchObject({
      messageCount: 2,
      lastSeq: 3,
      lastMessageAt: at(102).toISOString(),
    });
    expect(await rows(store.stats.roomCounts(ALL))).toEqual([{ room: 'general', messageCount: 2 }]);
    expect(await rows(store.stats.userCounts(ALL))).toEqual([
      { username: 'alice', messageCount: 1 },
      { username: 'bob', messageCount: 1 },
    ]);
    expect(await rows(store.stats.memberCounts(general.id, ALL))).toEqual([
      { username: 'alice', messageCount: 1 },
      { username: 'bob', messageCount: 1 },
    ]);
    expect(await rows(store.rooms.members(general.id, ALL))).toEqual([
      { username: 'alice', joinedAt: at(0), messageCount: 1 },
      { username: 'bob', joinedAt: at(1), messageCount: 1 },
    ]);
    expect(await store.stats.userCount(alice.id)).toBe(1);

    // Deleting again changes nothing, counts included; nothing else can change a tombstone.
    expect(await store.messages.delete(general, 1, at(300))).toEqual({ kind: 'unchanged', message: tombstone });
    expect(await store.messages.edit(general, 1, 'back', at(300))).toEqual({ kind: 'deleted' });
    expect(await store.messages.react(general, 1, bob.id, '🎉')).toEqual({ kind: 'deleted' });
    expect(await store.messages.unreact(general, 1, bob.id, '👍')).toEqual({ kind: 'deleted' });
    expect(await store.messages.delete(general, 9, at(300))).toEqual({ kind: 'notFound' });
    expect(await store.rooms.summary(general.id)).toMatchObject({ messageCount: 2 });
    expect(await store.stats.userCount(alice.id)).toBe(1);
    expect(await store.rooms.lastChange(general.id)).toBe(6);
    expect(await store.messages.get(general, 1)).toEqual(tombstone);
    // A retry of a deleted post gets the tombstone, in a batch too, and takes no seq.
    await store.messages.insertOne(post(general, bob, 'kept', 'b1', at(400)));
    await store.messages.delete(general, 4, at(500));
    expect(
      await store.messages.insertBatch([post(general, bob, 'kept', 'b1'), post(general, bob, 'other text', 'b1')]),
    ).toEqual([
      {
        kind: 'duplicate',
        message: {
          ...message(4, 'bob', ''),
          createdAt: at(400).toISOString(),
          clientId: 'b1',
          deletedAt: at(500).toISOString(),
        },
      },
      {
        kind: 'duplicate',
        message: {
          ...message(4, 'bob', ''),
          createdAt: at(400).toISOString(),
          clientId: 'b1',
          deletedAt: at(500).toISOString(),
        },
      },
    ]);
    expect(await store.rooms.lastSeq(general.id)).toBe(4);
  });

  test('messages: reactions in order of first use, idempotent both ways, at most 20 different emoji', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    await store.messages.insertBatch([post(general, alice, 'react to me'), post(general, bob, 'and me')]);

    expect(await store.messages.react(general, 1, bob.id, '👍')).toMatchObject({ kind: 'changed' });
    expect(await store.messages.react(general, 1, alice.id, '🎉')).toMatchObject({ kind: 'changed' });
    const both = await store.messages.react(general, 1, alice.id, '👍');
    const reacted = {
      ...message(1, 'alice', 'react to me'),
      reactions: [
        { emoji: '👍', count: 2, usernames: ['bob', 'alice'] },
        { emoji: '🎉', count: 1, usernames: ['alice'] },
      ],
    };
    expect(both).toEqual({
      kind: 'changed',
      message: reacted,
      changes: [{ change: 5, type: 'update', message: reacted }],
    });
    expectKeyOrder(both);
    expect(await store.messages.react(general, 1, bob.id, '👍')).toEqual({ kind: 'unchanged', message: reacted });
    expect(await store.messages.react(general, 2, alice.id, '🎉')).toMatchObject({
      kind: 'changed',
      changes: [{ change: 6 }],
    });
    expect((await store.messages.list(general, { limit: 10 })).messages.map((each) => each.reactions)).toEqual([
      reacted.reactions,
      [{ emoji: '🎉', count: 1, usernames: ['alice'] }],
    ]);

    // First use counts among the reactions there now: once bob takes back the oldest one, alice's 🎉
    // is older than her 👍; bob reacting again puts him after alice.
    expect(await store.messages.unreact(general, 1, bob.id, '👍')).toMatchObject({
      kind: 'changed',
      message: {
        reactions: [
          { emoji: '🎉', count: 1, usernames: ['alice'] },
          { emoji: '👍', count: 1 },
        ],
      },
    });
    expect(await store.messages.unreact(general, 1, bob.id, '👍')).toMatchObject({ kind: 'unchanged' });
    expect(await store.messages.unreact(general, 1, bob.id, '🙈')).toMatchObject({ kind: 'unchanged' });
    expect(await store.messages.react(general, 1, bob.id, '👍')).toMatchObject({
      message: { reactions: [{ emoji: '🎉' }, { emoji: '👍', usernames: ['alice', 'bob'] }] },
    });
    expect(await store.messages.unreact(general, 1, alice.id, '👍')).toMatchObject({
      message: { reactions: [{ emoji: '🎉' }, { emoji: '👍', usernames: ['bob'] }] },
    });
    expect(await store.rooms.lastChange(general.id)).toBe(9);
    expect(await store.messages.react(general, 7, bob.id, '👍')).toEqual({ kind: 'notFound' });
    expect(await store.messages.unreact(general, 7, bob.id, '👍')).toEqual({ kind: 'notFound' });

    // 2 emoji so far; 18 more make 20, and a 21st different one is refused, from anyone.
    const more = Array.from({ length: 19 }, (_, index) => String.fromCodePoint(0x1f600 + index));
    for (const emoji of more.slice(0, 18)) {
      expect(await store.messages.react(general, 1, alice.id, emoji)).toMatchObject({ kind: 'changed' });
    }
    expect(await store.messages.react(general, 1, bob.id, more[18] as string)).toEqual({ kind: 'tooManyReactions' });
    // One of the 20 is still welcome, from someone new to it.
    const again = await store.messages.react(general, 1, bob.id, more[0] as string);
    expect(again).toMatchObject({ kind: 'changed' });
    if (again.kind !== 'changed') throw new Error('not changed');
    expect(again.message.reactions.map((reaction) => reaction.emoji)).toEqual(['🎉', '👍', ...more.slice(0, 18)]);
    expect(again.message.reactions[2]).toEqual({ emoji: more[0], count: 2, usernames: ['alice', 'bob'] });
    // Once one emoji is gone entirely, a new one fits again.
    expect(await store.messages.unreact(general, 1, alice.id, '🎉')).toMatchObject({ kind: 'changed' });
    expect(await store.messages.react(general, 1, bob.id, more[18] as string)).toMatchObject({ kind: 'changed' });
    expect(await store.rooms.lastChange(general.id)).toBe(9 + 18 + 1 + 2);
    // Reactions count nowhere.
    expect(await store.stats.userCount(bob.id)).toBe(1);
  });

  test('messages: a reply quotes its original; edits and deletes of the original update each reply too', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    const other = await room(store, alice, 'other');
    await store.rooms.join(bob.id, 'general', at(1));
    const long = `${'a'.repeat(199)}😀 and more`;
    await store.messages.insertOne(post(general, alice, long)); // seq 1, change 1
    const preview = { seq: 1, author: 'alice', text: 'a'.repeat(199), deleted: false };
    const [first, , second] = await store.messages.insertBatch([
      { ...post(general, bob, 'first reply', 'r1'), replyTo: preview }, // seq 2, change 2
      post(general, bob, 'not a reply'), // seq 3, change 3
      { ...post(general, alice, 'second reply'), replyTo: preview }, // seq 4, change 4
    ]);
    const reply = (seq: number, author: string, text: string, quote: typeof preview) => ({
      ...message(seq, author, text),
      replyTo: quote,
    });
    expect(first).toEqual({
      kind: 'inserted',
      change: 2,
      message: { ...reply(2, 'bob', 'first reply', preview), clientId: 'r1' },
    });
    expect(second).toEqual({ kind: 'inserted', change: 4, message: reply(4, 'alice', 'second reply', preview) });
    expectKeyOrder(first);
    await store.messages.insertOne(post(other, alice, 'elsewhere, seq 1 too'));
    // Read back, the quote is the excerpt of the stored text (cut before the emoji's surrogate pair).
    expect(await store.messages.get(general, 4)).toEqual(reply(4, 'alice', 'second reply', preview));
    expect((await store.messages.list(general, { limit: 10 })).messages.map((each) => each.replyTo)).toEqual([
      null,
      preview,
      null,
      preview,
    ]);
    expect((await store.messages.list(other, { limit: 10 })).messages[0]?.replyTo).toBeNull();

    const editedQuote = { ...preview, text: 'short now' };
    const edited = await store.messages.edit(general, 1, 'short now', at(2000));
    expect(edited).toMatchObject({ kind: 'changed', message: { seq: 1, text: 'short now' } });
    if (edited.kind !== 'changed') throw new Error('not changed');
    expect(edited.changes).toEqual([
      { change: 5, type: 'update', message: edited.message },
      { change: 6, type: 'update', message: { ...reply(2, 'bob', 'first reply', editedQuote), clientId: 'r1' } },
      { change: 7, type: 'update', message: reply(4, 'alice', 'second reply', editedQuote) },
    ]);
    expectKeyOrder(edited);

    // A reaction changes the original only: the quote does not show reactions.
    expect(await store.messages.react(general, 1, bob.id, '👍')).toMatchObject({ changes: [{ change: 8 }] });

    const deletedQuote = { seq: 1, author: 'alice', text: '', deleted: true };
    const deleted = await store.messages.delete(general, 1, at(3000));
    if (deleted.kind !== 'changed') throw new Error('not deleted');
    expect(deleted.changes.map((change) => [change.change, change.message.seq, change.message.replyTo])).toEqual([
      [9, 1, null],
      [10, 2, deletedQuote],
      [11, 4, deletedQuote],
    ]);
    // A deleted reply keeps its quote; editing a reply changes nothing else.
    expect(await store.messages.delete(general, 2, at(4000))).toMatchObject({
      kind: 'changed',
      message: { text: '', replyTo: deletedQuote },
      changes: [{ change: 12 }],
    });
    expect(await store.rooms.lastChange(general.id)).toBe(12);
    expect(await store.rooms.lastChange(other.id)).toBe(1);
  });

  test('messages: changes() merges posts and updates by change, each with the message as it is now', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    const other = await room(store, alice, 'other');
    expect(await store.messages.changes(general, 0, 10)).toEqual({ changes: [], hasMore: false });
    await store.messages.insertBatch([post(general, alice, 'one'), post(general, alice, 'two')]); // 1, 2
    await store.messages.edit(general, 1, 'one, edited', at(2000)); // 3
    await store.messages.insertOne(post(other, alice, 'elsewhere')); // other room's 1
    await store.messages.insertOne(post(general, alice, 'three')); // 4
    await store.messages.react(general, 2, alice.id, '👍'); // 5
    await store.messages.edit(general, 1, 'one, edited twice', at(3000)); // 6
    await store.messages.react(other, 1, alice.id, '👍'); // other room's 2

    const now = new Map((await store.messages.list(general, { limit: 10 })).messages.map((each) => [each.seq, each]));
    const expected = [
      [1, 'message', 1],
      [2, 'message', 2],
      [3, 'update', 1],
      [4, 'message', 3],
      [5, 'update', 2],
      [6, 'update', 1],
    ].map(([change, type, seq]) => ({ change, type, message: now.get(seq as number) }));
    const all = await store.messages.changes(general, 0, 100);
    expect(all).toEqual({ changes: expected, hasMore: false });
    expect(all.changes[0]?.message.text).toBe('one, edited twice');
    expect(JSON.stringify(all.changes.map((change) => Object.keys(change)))).toBe(
      JSON.stringify(all.changes.map(() => ['change', 'type', 'message'])),
    );
    for (const change of all.changes) expectKeyOrder(change.message);
    expect(await store.messages.changes(general, 0, 6)).toEqual({ changes: expected, hasMore: false });
    expect(await store.messages.changes(general, 0, 5)).toEqual({ changes: expected.slice(0, 5), hasMore: true });
    expect(await store.messages.changes(general, 2, 2)).toEqual({ changes: expected.slice(2, 4), hasMore: true });
    expect(await store.messages.changes(general, 4, 2)).toEqual({ changes: expected.slice(4), hasMore: false });
    expect(await store.messages.changes(general, 6, 2)).toEqual({ changes: [], hasMore: false });
    expect(await store.messages.changes(general, 99, 2)).toEqual({ changes: [], hasMore: false });
    expect((await store.messages.changes(other, 0, 10)).changes.map((change) => [change.change, change.type])).toEqual([
      [1, 'message'],
      [2, 'update'],
    ]);

    // The change that posted each message: how an event id from before changes existed (a seq) resumes.
    expect(await store.messages.changeOfSeq(general, 0)).toBe(0);
    expect(await store.messages.changeOfSeq(general, 1)).toBe(1);
    expect(await store.messages.changeOfSeq(general, 3)).toBe(4);
    expect(await store.messages.changeOfSeq(general, 4)).toBeUndefined();
    expect(await store.messages.changeOfSeq(other, 1)).toBe(1);
    expect(await store.rooms.lastChange(general.id)).toBe(6);
    const heads = await store.rooms.lastChanges(['general', 'other', 'nowhere']);
    expect([...heads.entries()].sort()).toEqual([
      ['general', 6],
      ['other', 2],
    ]);
    expect((await store.rooms.lastChanges([])).size).toBe(0);
    await expect(store.rooms.lastChange(999)).rejects.toThrow('not found');
  });

  test('messages: the change log keeps the newest CHANGE_LOG_LENGTH changes of each room', async ({ store }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    await store.messages.insertOne(post(general, alice, 'toggled')); // change 1
    const toggles = CHANGE_LOG_LENGTH + 5;
    for (let index = 0; index < toggles; index += 1) {
      const result =
        index % 2 === 0
          ? await store.messages.react(general, 1, alice.id, '👍')
          : await store.messages.unreact(general, 1, alice.id, '👍');
      expect(result.kind).toBe('changed');
    }
    await store.messages.insertOne(post(general, alice, 'last')); // a post does not prune
    const last = toggles + 2;
    expect(await store.rooms.lastChange(general.id)).toBe(last);
    const page = await store.messages.changes(general, 0, 2 * CHANGE_LOG_LENGTH);
    // Posts are never pruned; of the updates (2 .. toggles + 1) the newest CHANGE_LOG_LENGTH are left,
    // counted from the last update's change.
    const oldestKept = toggles + 1 - CHANGE_LOG_LENGTH + 1;
    expect(page.hasMore).toBe(false);
    expect(page.changes.map((change) => change.change)).toEqual([
      1,
      ...Array.from({ length: CHANGE_LOG_LENGTH }, (_, index) => oldestKept + index),
      last,
    ]);
    expect(page.changes.slice(1, -1).every((change) => change.type === 'update')).toBe(true);
  }, 120_000); // over a thousand transactions: seconds alone, more beside the rest of the suite

  test('rooms: the creator is whoever created the room, never a later joiner', async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, bob, 'general');
    await store.rooms.join(alice.id, 'general', at(5));
    const random = await room(store, alice, 'random');
    expect(await store.rooms.creator(general.id)).toBe(bob.id);
    expect(await store.rooms.creator(random.id)).toBe(alice.id);
    expect(await store.rooms.creator(999)).toBeNull();
    expect(await store.rooms.lastChange(general.id)).toBe(0);
  });

  test('migrated data: posts from before the change counter resume by seq, and the first member is the creator', async ({
    backend,
  }) => {
    const old = await databaseBefore019(backend);
    try {
      const store = await old.migrate();
      const general = await store.rooms.find('general');
      const quiet = await store.rooms.find('quiet');
      if (!general || !quiet) throw new Error('rooms lost in the migration');
      // Every change was a post: change = seq, and the counter is the last seq.
      expect(await store.rooms.lastChange(general.id)).toBe(3);
      expect(await store.rooms.lastChange(quiet.id)).toBe(0);
      for (const seq of [0, 1, 2, 3]) expect(await store.messages.changeOfSeq(general, seq)).toBe(seq);
      expect(await store.messages.changeOfSeq(general, 4)).toBeUndefined();
      // bob joined general after alice (she created it); quiet has bob only.
      const alice = await store.users.findByUsername('alice');
      const bob = await store.users.findByUsername('bob');
      expect(await store.rooms.creator(general.id)).toBe(alice?.id);
      expect(await store.rooms.creator(quiet.id)).toBe(bob?.id);
      const [first] = (await store.messages.list(general, { limit: 1, before: 2 })).messages;
      expectKeyOrder(first);
      expect(first).toEqual({ ...message(1, 'alice', 'one'), createdAt: at(100).toISOString() });

      // And they go on from there.
      if (!alice) throw new Error('alice lost in the migration');
      expect(await store.messages.edit(general, 2, 'two, edited', at(500))).toMatchObject({ changes: [{ change: 4 }] });
      expect(await store.messages.insertOne(post(general, alice, 'four', null, at(600)))).toMatchObject({
        kind: 'inserted',
        change: 5,
        message: { id: 4, seq: 4 },
      });
      expect(
        (await store.messages.changes(general, 1, 10)).changes.map((change) => [change.change, change.type]),
      ).toEqual([
        [2, 'message'],
        [3, 'message'],
        [4, 'update'],
        [5, 'message'],
      ]);
      expect(await store.messages.changeOfSeq(general, 4)).toBe(5);
    } finally {
      await old.drop();
    }
  });

  test('ping answers while open; once closed every call rejects with StoreUnavailableError', async ({ store }) => {
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.rooms.find('general')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toThrow('The database is unavailable');
  });
});

/** A post with its `@name` candidates, as the messages router hands it to the store. */
function postMentioning(room: RoomRow, author: SessionUser, text: string, now = at(1000)): NewMessage {
  return { ...post(room, author, text, null, now), mentions: mentionCandidates(text) };
}

/** The seqs of a page and its flags, for the `around` tests. */
async function aroundPage(store: Store, room: RoomRow, around: number, limit: number) {
  const page = await store.messages.list(room, { around, limit });
  return {
    seqs: page.messages.map((each) => each.seq),
    hasMore: page.hasMore,
    hasMoreBefore: page.hasMoreBefore,
    hasMoreAfter: page.hasMoreAfter,
  };
}

describeEachBackend('Store contract: my rooms, read markers and mentions (issue 13)', () => {
  test('my rooms: unread counts posts by others after the marker, never own posts or deleted ones', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    await room(store, bob, 'quiet', at(2));
    const random = await room(store, bob, 'random', at(3));
    await store.rooms.join(alice.id, 'random', at(4));
    expect(await store.rooms.mine(bob.id)).toEqual([
      { name: 'general', unreadCount: 0, mentionCount: 0, lastReadSeq: 0, lastSeq: 0, lastMessageAt: null },
      { name: 'quiet', unreadCount: 0, mentionCount: 0, lastReadSeq: 0, lastSeq: 0, lastMessageAt: null },
      { name: 'random', unreadCount: 0, mentionCount: 0, lastReadSeq: 0, lastSeq: 0, lastMessageAt: null },
    ]);

    await store.messages.insertBatch([
      post(general, alice, 'one', null, at(100)),
      post(general, alice, 'two', null, at(101)),
      post(general, alice, 'three', null, at(102)),
    ]);
    await store.messages.insertOne(post(random, alice, 'elsewhere', null, at(50)));
    // Most recent activity first, rooms without messages last (by name).
    const bobs = await store.rooms.mine(bob.id);
    expect(bobs).toEqual([
      {
        name: 'general',
        unreadCount: 3,
        mentionCount: 0,
        lastReadSeq: 0,
        lastSeq: 3,
        lastMessageAt: at(102).toISOString(),
      },
      {
        name: 'random',
        unreadCount: 1,
        mentionCount: 0,
        lastReadSeq: 0,
        lastSeq: 1,
        lastMessageAt: at(50).toISOString(),
      },
      { name: 'quiet', unreadCount: 0, mentionCount: 0, lastReadSeq: 0, lastSeq: 0, lastMessageAt: null },
    ]);
    // Keys in MyRoom's order on both backends: the JSON is the same.
    for (const each of bobs) {
      expect(Object.keys(each)).toEqual([
        'name',
        'unreadCount',
        'mentionCount',
        'lastReadSeq',
        'lastSeq',
        'lastMessageAt',
      ]);
    }
    // Own posts are never unread.
    expect((await store.rooms.myRoom(general.id, alice.id))?.unreadCount).toBe(0);
    await store.messages.insertOne(post(general, bob, 'four', null, at(103)));
    expect(await store.rooms.myRoom(general.id, alice.id)).toMatchObject({ unreadCount: 1, lastSeq: 4 });
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 3, lastSeq: 4 });
    // A deleted message is no longer unread; the head stays.
    await store.messages.delete(general, 2, at(200));
    expect(await store.rooms.myRoom(general.id, bob.id)).toEqual({
      name: 'general',
      unreadCount: 2,
      mentionCount: 0,
      lastReadSeq: 0,
      lastSeq: 4,
      lastMessageAt: at(103).toISOString(),
    });
    // Read up to 1: seqs 3 (alice) remains; 2 is deleted, 4 is bob's own.
    expect(await store.rooms.markRead(general.id, bob.id, 1)).toBe(1);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 1, lastReadSeq: 1 });
    // A member who joins later starts at the head: nothing unread.
    const carol = await user(store, 'carol');
    await store.rooms.join(carol.id, 'general', at(300));
    expect(await store.rooms.mine(carol.id)).toEqual([
      {
        name: 'general',
        unreadCount: 0,
        mentionCount: 0,
        lastReadSeq: 4,
        lastSeq: 4,
        lastMessageAt: at(103).toISOString(),
      },
    ]);
    await store.messages.insertOne(post(general, alice, 'five', null, at(400)));
    expect(await store.rooms.myRoom(general.id, carol.id)).toMatchObject({ unreadCount: 1, lastReadSeq: 4 });
    // Not a member, or no such room: undefined, and no rooms at all is an empty list.
    expect(await store.rooms.myRoom(general.id, await user(store, 'dave').then((dave) => dave.id))).toBeUndefined();
    expect(await store.rooms.myRoom(999, bob.id)).toBeUndefined();
    expect(await store.rooms.mine(999)).toEqual([]);
  });

  test(`my rooms: counts stop at UNREAD_COUNT_CAP (${UNREAD_COUNT_CAP})`, async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    const batch = Array.from({ length: 250 }, (_, index) => postMentioning(general, alice, `@bob ${index}`));
    for (let round = 0; round < 5; round += 1) await store.messages.insertBatch(batch);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({
      unreadCount: UNREAD_COUNT_CAP,
      mentionCount: UNREAD_COUNT_CAP,
      lastSeq: 1250,
    });
    expect(await store.rooms.markRead(general.id, bob.id, 1000)).toBe(1000);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 250, mentionCount: 250 });
  }, 60_000);

  test('read marker: moves forward only, clamped to the head; undefined for a non-member', async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    await store.messages.insertBatch(Array.from({ length: 5 }, (_, index) => post(general, alice, `m${index}`)));

    expect(await store.rooms.markRead(general.id, bob.id, 3)).toBe(3);
    expect(await store.rooms.markRead(general.id, bob.id, 2)).toBe(3);
    expect(await store.rooms.markRead(general.id, bob.id, 0)).toBe(3);
    expect(await store.rooms.markRead(general.id, bob.id, 3)).toBe(3);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ lastReadSeq: 3, unreadCount: 2 });
    // Past the head: the head, and a later post is unread again.
    expect(await store.rooms.markRead(general.id, bob.id, 1_000_000)).toBe(5);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ lastReadSeq: 5, unreadCount: 0 });
    await store.messages.insertOne(post(general, alice, 'm5'));
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ lastReadSeq: 5, unreadCount: 1, lastSeq: 6 });
    // Two marks racing end at the larger.
    await Promise.all([
      store.rooms.markRead(general.id, bob.id, 6),
      store.rooms.markRead(general.id, bob.id, 5),
      store.rooms.markRead(general.id, bob.id, 4),
    ]);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ lastReadSeq: 6, unreadCount: 0 });
    // The author's own marker moves the same way.
    expect(await store.rooms.markRead(general.id, alice.id, 2)).toBe(2);

    const carol = await user(store, 'carol');
    expect(await store.rooms.markRead(general.id, carol.id, 3)).toBeUndefined();
    expect(await store.rooms.markRead(999, bob.id, 3)).toBeUndefined();
    expect(await store.rooms.myRoom(general.id, carol.id)).toBeUndefined();
  });

  test('leave and re-join: the room leaves my rooms and the members; a new membership starts at the head and recounts', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const general = await room(store, alice, 'general');
    await store.rooms.join(bob.id, 'general', at(1));
    await room(store, bob, 'random', at(2));
    await store.messages.insertBatch([
      post(general, bob, 'b1', null, at(10)),
      post(general, bob, 'b2', null, at(11)),
      post(general, bob, 'b3', null, at(12)),
      post(general, alice, 'a1', null, at(13)),
    ]);
    await store.messages.delete(general, 2, at(20));
    expect(await store.rooms.markRead(general.id, bob.id, 1)).toBe(1);

    expect(await store.rooms.leave(general.id, bob.id)).toBe(true);
    expect(await store.rooms.leave(general.id, bob.id)).toBe(false);
    expect(await store.rooms.leave(999, bob.id)).toBe(false);
    expect(await store.rooms.isMember(general.id, bob.id)).toBe(false);
    expect((await store.rooms.mine(bob.id)).map((each) => each.name)).toEqual(['random']);
    expect(await store.rooms.myRoom(general.id, bob.id)).toBeUndefined();
    expect(await rows(store.rooms.members(general.id, ALL))).toEqual([
      { username: 'alice', joinedAt: at(0), messageCount: 1 },
    ]);
    expect(await store.rooms.summary(general.id)).toMatchObject({ memberCount: 1, messageCount: 3, lastSeq: 4 });
    // Their messages stay, and still count for the room and for them.
    expect((await store.messages.get(general, 1))?.author).toBe('bob');
    expect(await store.stats.userCount(bob.id)).toBe(2);
    expect(await store.rooms.markRead(general.id, bob.id, 4)).toBeUndefined();

    await store.messages.insertOne(post(general, alice, 'a2', null, at(30)));
    const rejoined = await store.rooms.join(bob.id, 'general', at(40));
    expect(rejoined).toMatchObject({ created: false, room: { id: general.id } });
    // The marker restarts at the head (nothing unread), not where it was (1).
    expect(await store.rooms.myRoom(general.id, bob.id)).toEqual({
      name: 'general',
      unreadCount: 0,
      mentionCount: 0,
      lastReadSeq: 5,
      lastSeq: 5,
      lastMessageAt: at(30).toISOString(),
    });
    // The membership's count is recounted: bob's messages still there, the deleted one not.
    expect(await rows(store.rooms.members(general.id, ALL))).toEqual([
      { username: 'alice', joinedAt: at(0), messageCount: 2 },
      { username: 'bob', joinedAt: at(40), messageCount: 2 },
    ]);
    expect(await rows(store.stats.memberCounts(general.id, ALL))).toEqual([
      { username: 'alice', messageCount: 2 },
      { username: 'bob', messageCount: 2 },
    ]);
    // And it goes on from there.
    await store.messages.insertOne(post(general, bob, 'b4', null, at(50)));
    expect(await rows(store.stats.memberCounts(general.id, ALL))).toContainEqual({ username: 'bob', messageCount: 3 });
    // Joining again while a member changes nothing: not the marker, not the count.
    await store.messages.insertOne(post(general, alice, 'a3', null, at(60)));
    await store.rooms.join(bob.id, 'general', at(70));
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ lastReadSeq: 5, unreadCount: 1, lastSeq: 7 });
    expect(await rows(store.stats.memberCounts(general.id, ALL))).toContainEqual({ username: 'bob', messageCount: 3 });
  });

  test('membersNamed: members only, names compared case-insensitively, canonical names in user id order', async ({
    store,
  }) => {
    const alice = await user(store, 'Alice');
    const bob = await user(store, 'bob');
    const carol = await user(store, 'CAROL');
    const dave = await user(store, 'dave');
    const general = await room(store, carol, 'general');
    await store.rooms.join(alice.id, 'general', at(1));
    await store.rooms.join(bob.id, 'general', at(2));
    await room(store, dave, 'random');
    expect(await store.rooms.membersNamed(general.id, ['carol', 'alice', 'dave', 'nobody', 'ALICE', 'Bob'])).toEqual([
      { id: alice.id, username: 'Alice' },
      { id: bob.id, username: 'bob' },
      { id: carol.id, username: 'CAROL' },
    ]);
    expect(await store.rooms.membersNamed(general.id, [])).toEqual([]);
    expect(await store.rooms.membersNamed(general.id, ['%', 'a_ice', '*'])).toEqual([]);
    expect(await store.rooms.membersNamed(999, ['alice'])).toEqual([]);
    await store.rooms.leave(general.id, bob.id);
    expect(await store.rooms.membersNamed(general.id, ['bob'])).toEqual([]);
  });

  test('mentions: members named in the text, canonical, in order of first mention, each once; counted while unread', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'Bob');
    const carol = await user(store, 'carol');
    const dave = await user(store, 'dave');
    const general = await room(store, alice, 'general');
    for (const member of [bob, carol]) await store.rooms.join(member.id, 'general', at(1));
    await room(store, dave, 'random');

    const text = 'hi @carol and @BOB, @carol again; @dave @nobody x@bob.example, mail bob@example.com, @alice.';
    const posted = await store.messages.insertOne(postMentioning(general, alice, text));
    const expected = { ...message(1, 'alice', text), mentions: ['carol', 'Bob', 'alice'] };
    expect(posted).toEqual({ kind: 'inserted', change: 1, message: expected });
    expectKeyOrder(posted);
    expect(await store.messages.get(general, 1)).toEqual(expected);
    expect((await store.messages.list(general, { limit: 10 })).messages).toEqual([expected]);

    // A batch: each post its own mentions; without candidates, none.
    const batch = await store.messages.insertBatch([
      postMentioning(general, carol, '@bob.'),
      post(general, carol, '@bob but no candidates given'),
      postMentioning(general, bob, '@Carol-'),
      postMentioning(general, bob, 'nobody here'),
    ]);
    expect(batch.map((result) => (result.kind === 'inserted' ? result.message.mentions : result.kind))).toEqual([
      ['Bob'],
      [],
      ['carol'],
      [],
    ]);
    expect((await store.messages.list(general, { limit: 10 })).messages.map((each) => each.mentions)).toEqual([
      ['carol', 'Bob', 'alice'],
      ['Bob'],
      [],
      ['carol'],
      [],
    ]);
    // A duplicate answers the stored message, with its mentions.
    const retried = postMentioning(general, alice, 'again @bob');
    await store.messages.insertOne({ ...retried, clientId: 'c1' });
    expect(await store.messages.insertOne({ ...retried, clientId: 'c1' })).toMatchObject({
      kind: 'duplicate',
      message: { seq: 6, mentions: ['Bob'] },
    });

    // Mention counts: unread messages by others that mention the user.
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 4, mentionCount: 3 });
    expect(await store.rooms.myRoom(general.id, carol.id)).toMatchObject({ unreadCount: 4, mentionCount: 2 });
    expect(await store.rooms.myRoom(general.id, alice.id)).toMatchObject({ unreadCount: 4, mentionCount: 0 });
    expect(await store.rooms.markRead(general.id, bob.id, 2)).toBe(2);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
  });

  test('mentions: an edit recomputes them in its transaction, a delete clears them', async ({ store }) => {
    const alice = await user(store, 'alice');
    const bob = await user(store, 'bob');
    const carol = await user(store, 'carol');
    const general = await room(store, alice, 'general');
    for (const member of [bob, carol]) await store.rooms.join(member.id, 'general', at(1));
    await store.messages.insertOne(postMentioning(general, alice, '@bob look'));
    const reply = {
      ...postMentioning(general, bob, 'what? @alice'),
      replyTo: { seq: 1, author: 'alice', text: '@bob look', deleted: false },
    };
    await store.messages.insertOne(reply);
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ mentionCount: 1 });

    const text = '@carol look, not @bob, well @BOB too';
    const edited = await store.messages.edit(general, 1, text, at(2000), mentionCandidates(text));
    expect(edited).toMatchObject({
      kind: 'changed',
      message: { text, mentions: ['carol', 'bob'] },
      changes: [
        { change: 3, message: { seq: 1, mentions: ['carol', 'bob'] } },
        // The reply's quote changed; its own mentions did not.
        { change: 4, message: { seq: 2, mentions: ['alice'], replyTo: { text } } },
      ],
    });
    expectKeyOrder(edited);
    expect((await store.messages.get(general, 1))?.mentions).toEqual(['carol', 'bob']);
    expect(await store.rooms.myRoom(general.id, carol.id)).toMatchObject({ mentionCount: 1 });

    const plain = 'nobody now';
    expect(await store.messages.edit(general, 1, plain, at(3000), mentionCandidates(plain))).toMatchObject({
      message: { mentions: [] },
    });
    expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({ unreadCount: 1, mentionCount: 0 });
    expect(await store.rooms.myRoom(general.id, carol.id)).toMatchObject({ unreadCount: 2, mentionCount: 0 });
    // The same text again is no change: mentions stay as they are.
    const again = '@carol again';
    await store.messages.edit(general, 1, again, at(4000), mentionCandidates(again));
    expect(await store.messages.edit(general, 1, again, at(5000), [])).toMatchObject({
      kind: 'unchanged',
      message: { mentions: ['carol'] },
    });

    const deleted = await store.messages.delete(general, 2, at(6000));
    expect(deleted).toMatchObject({ kind: 'changed', message: { text: '', mentions: [] } });
    expect((await store.messages.get(general, 2))?.mentions).toEqual([]);
    expect(await store.rooms.myRoom(general.id, alice.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
    await store.messages.delete(general, 1, at(7000));
    expect(await store.rooms.myRoom(general.id, carol.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
    expect((await store.messages.list(general, { limit: 10 })).messages.map((each) => each.mentions)).toEqual([[], []]);
  });

  test('around: a page centred on a seq at the start, middle and end of a room, with hasMoreBefore/After', async ({
    store,
  }) => {
    const alice = await user(store, 'alice');
    const general = await room(store, alice, 'general');
    const other = await room(store, alice, 'other');
    await store.messages.insertBatch(
      Array.from({ length: 10 }, (_, index) => post(general, alice, `m${index + 1}`, null, at(index))),
    );
    await store.messages.insertOne(post(other, alice, 'elsewhere'));
    const page = (seqs: number[], hasMoreBefore: boolean, hasMoreAfter: boolean) => ({
      seqs,
      hasMore: hasMoreBefore || hasMoreAfter,
      hasMoreBefore,
      hasMoreAfter,
    });
    // Middle: two older (half of limit - 1), the seq, the rest newer.
    expect(await aroundPage(store, general, 5, 5)).toEqual(page([3, 4, 5, 6, 7], true, true));
    expect(await aroundPage(store, general, 5, 4)).toEqual(page([4, 5, 6, 7], true, true));
    expect(await aroundPage(store, general, 5, 1)).toEqual(page([5], true, true));
    // Start: the newer side takes what the older one lacks; exactly one more after the page is "more".
    expect(await aroundPage(store, general, 1, 5)).toEqual(page([1, 2, 3, 4, 5], false, true));
    expect(await aroundPage(store, general, 2, 5)).toEqual(page([1, 2, 3, 4, 5], false, true));
    expect(await aroundPage(store, general, 1, 9)).toEqual(page([1, 2, 3, 4, 5, 6, 7, 8, 9], false, true));
    expect(await aroundPage(store, general, 0, 3)).toEqual(page([1, 2, 3], false, true));
    // End: the older side takes what the newer one lacks.
    expect(await aroundPage(store, general, 10, 5)).toEqual(page([6, 7, 8, 9, 10], true, false));
    expect(await aroundPage(store, general, 9, 5)).toEqual(page([6, 7, 8, 9, 10], true, false));
    expect(await aroundPage(store, general, 10, 9)).toEqual(page([2, 3, 4, 5, 6, 7, 8, 9, 10], true, false));
    // Past the head: the newest page; one exactly a room long has nothing more on either side.
    expect(await aroundPage(store, general, 20, 9)).toEqual(page([2, 3, 4, 5, 6, 7, 8, 9, 10], true, false));
    expect(await aroundPage(store, general, 5, 10)).toEqual(page([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false, false));
    expect(await aroundPage(store, general, 5, 100)).toEqual(page([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false, false));
    // A deleted message is in the page, as a tombstone; full DTOs, like any page.
    await store.messages.delete(general, 5, at(100));
    const centred = await store.messages.list(general, { around: 5, limit: 3 });
    expect(centred.messages).toEqual([
      { ...message(4, 'alice', 'm4'), createdAt: at(3).toISOString() },
      { ...message(5, 'alice', ''), createdAt: at(4).toISOString(), deletedAt: at(100).toISOString() },
      { ...message(6, 'alice', 'm6'), createdAt: at(5).toISOString() },
    ]);
    expect(await aroundPage(store, other, 1, 5)).toEqual(page([1], false, false));
    const empty = await room(store, alice, 'empty');
    expect(await aroundPage(store, empty, 1, 5)).toEqual(page([], false, false));
    // Without around, no flags.
    expect(await store.messages.list(general, { limit: 3 })).not.toHaveProperty('hasMoreBefore');
  });

  test('migrated data: members from before decision 020 have read everything up to their room head', async ({
    backend,
  }) => {
    const old = await databaseBefore019(backend, '_read_markers_mentions_search');
    try {
      const store = await old.migrate();
      const alice = await store.users.findByUsername('alice');
      const bob = await store.users.findByUsername('bob');
      const general = await store.rooms.find('general');
      if (!alice || !bob || !general) throw new Error('data lost in the migration');
      // general's head is 3; quiet has no messages.
      expect(await store.rooms.mine(alice.id)).toEqual([
        {
          name: 'general',
          unreadCount: 0,
          mentionCount: 0,
          lastReadSeq: 3,
          lastSeq: 3,
          lastMessageAt: at(102).toISOString(),
        },
      ]);
      expect(await store.rooms.mine(bob.id)).toEqual([
        {
          name: 'general',
          unreadCount: 0,
          mentionCount: 0,
          lastReadSeq: 3,
          lastSeq: 3,
          lastMessageAt: at(102).toISOString(),
        },
        { name: 'quiet', unreadCount: 0, mentionCount: 0, lastReadSeq: 0, lastSeq: 0, lastMessageAt: null },
      ]);
      // Old messages mention nobody; new ones go on from the marker.
      expect((await store.messages.get(general, 1))?.mentions).toEqual([]);
      await store.messages.insertOne(postMentioning(general, alice, '@bob four', at(600)));
      expect(await store.rooms.myRoom(general.id, bob.id)).toMatchObject({
        unreadCount: 1,
        mentionCount: 1,
        lastReadSeq: 3,
        lastSeq: 4,
      });
    } finally {
      await old.drop();
    }
  });
});
