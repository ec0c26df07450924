import { expect } from 'vitest';
import { StoreUnavailableError } from '../server/store/errors.ts';
import type { InsertResult, NewMessage, RoomRow, SessionUser, Store } from '../server/store/store.ts';
import { ALL, describeEachBackend, rows, storeTest as test } from './support/stores.ts';

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
      },
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
      { id: 1, seq: 1, author: 'alice', text: 'm1', createdAt: at(0).toISOString(), clientId: null, room: 'general' },
    ]);
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
