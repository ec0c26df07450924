import { describe, expect, test, vi } from 'vitest';
import { answered, changeOf, messageApi, roomView } from './support/changes.ts';
import { uniqueName, wsTrpcClient } from './support/clients.ts';
import { allMessages, joinRoom, type MessageDto, newUser, type TestUser } from './support/fixtures.ts';
import { type Follower, follow, range } from './support/live.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { openSse, type SseStream } from './support/sse.ts';

/** One `message` or `update` event as a client received it. */
interface Change {
  id: string;
  type: 'message' | 'update';
  message: MessageDto;
}

type LiveClient = ReturnType<typeof wsTrpcClient>;

interface Fixtures {
  server: TestServer;
  /** A WebSocket tRPC client for `token`, closed after the test. */
  connect: (token: string) => LiveClient;
  /** An SSE subscription to rooms.events, closed after the test. */
  sse: (token: string, room: string, lastEventId?: string) => Promise<SseStream>;
  /** A fresh room: its creator and two more members. */
  room: { name: string; owner: TestUser; alice: TestUser; bob: TestUser };
}

/** Polled conditions wait this long: generous, for a loaded CI machine. */
const WAIT = { timeout: 20_000, interval: 20 } as const;

const it = test.extend<Fixtures>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
    async ({}, use) => {
      const server = await startTestServer({ RATE_LIMITS: 'off' });
      await use(server);
      await server.close();
    },
    { scope: 'file' },
  ],
  connect: async ({ server }, use) => {
    const opened: LiveClient[] = [];
    await use((token) => {
      const live = wsTrpcClient(server.baseUrl, { token });
      opened.push(live);
      return live;
    });
    for (const live of opened) live.close();
  },
  sse: async ({ server }, use) => {
    const opened: SseStream[] = [];
    await use(async (token, room, lastEventId) => {
      const stream = await openSse(server.baseUrl, 'rooms.events', { room, lastEventId }, token);
      expect(stream.status).toBe(200);
      opened.push(stream);
      return stream;
    });
    for (const stream of opened) stream.close();
  },
  room: async ({ server }, use) => {
    const name = uniqueName('lc');
    const [owner, alice, bob] = await Promise.all(['owner', 'alice', 'bob'].map(() => newUser(server.baseUrl)));
    if (!owner || !alice || !bob) throw new Error('sign-up failed');
    await joinRoom(server.baseUrl, owner.token, name);
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    await use({ name, owner, alice, bob });
  },
});

/** The `message` and `update` events of an SSE stream, in arrival order. */
function sseChanges(stream: SseStream): Change[] {
  return stream.data().flatMap(({ id, data }) => {
    const event = data as { type: string; message?: MessageDto };
    if ((event.type === 'message' || event.type === 'update') && event.message && id !== undefined) {
      return [{ id, type: event.type, message: event.message }];
    }
    return [];
  });
}

function sseResets(stream: SseStream): number {
  return stream.data().filter(({ data }) => (data as { type: string }).type === 'reset').length;
}

/** (type, seq) of each change: what a resume must deliver, in order. */
const shape = (changes: Change[]) => changes.map((change) => `${change.type} ${change.message.seq}`);

const ids = (changes: Change[]) => changes.map((change) => change.id);

const cIds = (from: number, to: number) => range(from, to).map((change) => `c${change}`);

async function member(server: TestServer, room: string): Promise<TestUser> {
  const user = await newUser(server.baseUrl, uniqueName('lc'));
  await joinRoom(server.baseUrl, user.token, room);
  return user;
}

/**
 * Posts two messages and changes them in every way, with a no-op of each kind before the last post
 * (they must send nothing). Answers the events every live subscriber must get, in order.
 */
async function everyKindOfChange(
  room: Fixtures['room'],
): Promise<Array<{ type: Change['type']; message: MessageDto }>> {
  const { name, owner, alice, bob } = room;
  const first = (await alice.trpc.messages.post.mutate({ room: name, text: 'hello' })).message;
  const second = (await bob.trpc.messages.post.mutate({ room: name, text: 'hi' })).message;
  const edited = (await alice.trpc.messages.edit.mutate({ room: name, seq: first.seq, text: 'hello, edited' })).message;
  const thumbs = (await bob.trpc.messages.react.mutate({ room: name, seq: first.seq, emoji: '👍' })).message;
  const heart = (await alice.trpc.messages.react.mutate({ room: name, seq: first.seq, emoji: '❤️' })).message;
  const unthumbs = (await bob.trpc.messages.unreact.mutate({ room: name, seq: first.seq, emoji: '👍' })).message;
  const tombstone = (await owner.trpc.messages.delete.mutate({ room: name, seq: second.seq })).message;
  // No-ops: the same text, a reaction twice, an unreaction of nothing, a delete twice.
  await alice.trpc.messages.edit.mutate({ room: name, seq: first.seq, text: 'hello, edited' });
  await alice.trpc.messages.react.mutate({ room: name, seq: first.seq, emoji: '❤️' });
  await bob.trpc.messages.unreact.mutate({ room: name, seq: first.seq, emoji: '👍' });
  await owner.trpc.messages.delete.mutate({ room: name, seq: second.seq });
  const last = (await alice.trpc.messages.post.mutate({ room: name, text: 'done' })).message;
  expect(heart.reactions.map((reaction) => reaction.emoji)).toEqual(['👍', '❤️']);
  expect(unthumbs.reactions.map((reaction) => reaction.emoji)).toEqual(['❤️']);
  return [
    { type: 'message', message: first },
    { type: 'message', message: second },
    { type: 'update', message: edited },
    { type: 'update', message: thumbs },
    { type: 'update', message: heart },
    { type: 'update', message: unthumbs },
    { type: 'update', message: tombstone },
    { type: 'message', message: last },
  ];
}

describe('live updates: rooms.events carries every edit, delete and reaction change', () => {
  it('over WebSocket: {type:"update", message} with the full message after the change, once, in order', async ({
    server,
    connect,
    room,
  }) => {
    const followers = [follow(connect(room.alice.token), room.name), follow(connect(room.bob.token), room.name)];
    await Promise.all(followers.map((follower) => follower.until((f) => f.presence.length > 0)));
    const expected = await everyKindOfChange(room);
    for (const follower of followers) {
      await follower.until((f) => f.changes.length >= expected.length);
      expect(follower.changes.map(({ type, message }) => ({ type, message }))).toEqual(expected);
      expect(ids(follower.changes)).toEqual(cIds(1, expected.length));
      expect(follower.updates).toHaveLength(5);
      expect(roomView(follower.changes)).toEqual(await allMessages(server.baseUrl, room.bob.token, room.name));
    }
  });

  it('over SSE: the same events with the same ids', async ({ server, sse, room }) => {
    const stream = await sse(room.bob.token, room.name);
    await stream.until((s) => s.data().length > 0);
    const expected = await everyKindOfChange(room);
    await stream.until((s) => sseChanges(s).length >= expected.length);
    const changes = sseChanges(stream);
    expect(changes.map(({ type, message }) => ({ type, message }))).toEqual(expected);
    expect(ids(changes)).toEqual(cIds(1, expected.length));
    expect(roomView(changes)).toEqual(await allMessages(server.baseUrl, room.bob.token, room.name));
  });

  it('replies get an update too when the original is edited or deleted (their quote changed)', async ({
    server,
    connect,
    room,
  }) => {
    const { name, alice, bob } = room;
    const follower = follow(connect(bob.token), name);
    await follower.until((f) => f.presence.length > 0);
    const original = (await alice.trpc.messages.post.mutate({ room: name, text: 'origianl' })).message;
    const reply = (await bob.trpc.messages.post.mutate({ room: name, text: 'typo', replyTo: original.seq })).message;
    expect(reply.replyTo).toEqual({ seq: original.seq, author: alice.username, text: 'origianl', deleted: false });
    await alice.trpc.messages.edit.mutate({ room: name, seq: original.seq, text: 'original' });
    await alice.trpc.messages.delete.mutate({ room: name, seq: original.seq });
    await follower.until((f) => f.changes.length >= 6);
    expect(shape(follower.changes)).toEqual([
      `message ${original.seq}`,
      `message ${reply.seq}`,
      `update ${original.seq}`,
      `update ${reply.seq}`,
      `update ${original.seq}`,
      `update ${reply.seq}`,
    ]);
    expect(follower.changes[3]?.message.replyTo).toMatchObject({ text: 'original', deleted: false });
    expect(follower.changes[5]?.message.replyTo).toMatchObject({ text: '', deleted: true });
    expect(roomView(follower.changes)).toEqual(await allMessages(server.baseUrl, bob.token, name));
  });
});

describe('replies racing a change to their original', () => {
  // A reply's quote is read inside (SQLite) or after (PostgreSQL) its own commit, never before: an
  // edit committed before it is in the quote, one committed after it finds the reply and updates it.
  // Reading it before the transaction left most of 30 replies racing 10 edits stale for good.
  it('after quiet, a live view has the quotes messages.list has', async ({ server, connect, room }) => {
    const { name, alice, bob } = room;
    const follower = follow(connect(bob.token), name);
    await follower.until((f) => f.presence.length > 0);
    for (let round = 0; round < 3; round += 1) {
      const original = (await alice.trpc.messages.post.mutate({ room: name, text: `original ${round}` })).message;
      await Promise.all([
        ...range(1, 30).map((n) =>
          bob.trpc.messages.post.mutate({ room: name, text: `reply ${round}-${n}`, replyTo: original.seq }),
        ),
        ...range(1, 10).map((n) =>
          alice.trpc.messages.edit.mutate({ room: name, seq: original.seq, text: `original ${round} v${n}` }),
        ),
      ]);
    }
    // Events arrive in change order: once the last post is in, everything before it is.
    const last = (await alice.trpc.messages.post.mutate({ room: name, text: 'quiet now' })).message;
    await follower.until((f) => f.messages.some((message) => message.seq === last.seq));
    expect(roomView(follower.changes)).toEqual(await allMessages(server.baseUrl, bob.token, name));
  });
});

describe('resuming with the last event id', () => {
  /**
   * Changes made while a client is away: an edit of a message it saw, a post, reactions, a delete,
   * an edit of a message it never saw. Answers the (type, seq) a resume must deliver, in order.
   */
  async function whileAway(room: Fixtures['room'], seen: MessageDto[]): Promise<string[]> {
    const { name, alice, bob } = room;
    const [a1, a2, a3] = seen as [MessageDto, MessageDto, MessageDto];
    await alice.trpc.messages.edit.mutate({ room: name, seq: a1.seq, text: 'one, edited' });
    const a4 = (await bob.trpc.messages.post.mutate({ room: name, text: 'four' })).message;
    await alice.trpc.messages.react.mutate({ room: name, seq: a4.seq, emoji: '🎉' });
    await alice.trpc.messages.delete.mutate({ room: name, seq: a2.seq });
    await bob.trpc.messages.edit.mutate({ room: name, seq: a4.seq, text: 'four, edited' });
    const a5 = (await alice.trpc.messages.post.mutate({ room: name, text: 'five' })).message;
    await alice.trpc.messages.unreact.mutate({ room: name, seq: a4.seq, emoji: '🎉' });
    await bob.trpc.messages.react.mutate({ room: name, seq: a3.seq, emoji: '👍' });
    return [
      `update ${a1.seq}`,
      `message ${a4.seq}`,
      `update ${a4.seq}`,
      `update ${a2.seq}`,
      `update ${a4.seq}`,
      `message ${a5.seq}`,
      `update ${a4.seq}`,
      `update ${a3.seq}`,
    ];
  }

  async function threeMessages(room: Fixtures['room']): Promise<MessageDto[]> {
    const posted = [];
    for (const text of ['one', 'two', 'three']) {
      posted.push((await room.alice.trpc.messages.post.mutate({ room: room.name, text })).message);
    }
    return posted;
  }

  it('over WebSocket: exactly the missed messages and updates, in change order, then live', async ({
    server,
    connect,
    room,
  }) => {
    const { name, bob } = room;
    // Someone who stays connected sees every change live: the resumed client must end up with the same.
    const stayer = follow(connect(room.owner.token), name);
    const leaver = follow(connect(bob.token), name);
    await Promise.all([stayer, leaver].map((follower) => follower.until((f) => f.presence.length > 0)));
    const seen = await threeMessages(room);
    await leaver.until((f) => f.changes.length === 3);
    leaver.unsubscribe();
    const lastId = leaver.changes.at(-1)?.id;
    expect(lastId).toBe('c3');

    const missed = await whileAway(room, seen);
    const resumed = follow(connect(bob.token), name, lastId);
    await resumed.until((f) => f.changes.length >= missed.length);
    const live = (await room.alice.trpc.messages.post.mutate({ room: name, text: 'live' })).message;
    await resumed.until((f) => f.changes.length >= missed.length + 1);
    await stayer.until((f) => f.changes.length >= 3 + missed.length + 1);

    expect(shape(resumed.changes)).toEqual([...missed, `message ${live.seq}`]);
    expect(ids(resumed.changes)).toEqual(cIds(4, 3 + missed.length + 1));
    expect(resumed.resets).toBe(0);
    // The same events, by id and kind, as the client that never left got live.
    expect(shape(resumed.changes)).toEqual(shape(stayer.changes.slice(3)));
    expect(ids(resumed.changes)).toEqual(ids(stayer.changes.slice(3)));
    const listed = await allMessages(server.baseUrl, bob.token, name);
    expect(roomView([...leaver.changes, ...resumed.changes])).toEqual(listed);
    expect(roomView(stayer.changes)).toEqual(listed);
  });

  it('over SSE: the same, resuming with lastEventId', async ({ server, sse, room }) => {
    const { name, bob } = room;
    const first = await sse(bob.token, name);
    await first.until((s) => s.data().length > 0);
    const seen = await threeMessages(room);
    await first.until((s) => sseChanges(s).length === 3);
    first.close();
    const before = sseChanges(first);
    const lastId = before.at(-1)?.id;
    expect(lastId).toBe('c3');

    const missed = await whileAway(room, seen);
    const resumed = await sse(bob.token, name, lastId);
    await resumed.until((s) => sseChanges(s).length >= missed.length);
    const live = (await room.alice.trpc.messages.post.mutate({ room: name, text: 'live' })).message;
    await resumed.until((s) => sseChanges(s).length >= missed.length + 1);
    const after = sseChanges(resumed);
    expect(shape(after)).toEqual([...missed, `message ${live.seq}`]);
    expect(ids(after)).toEqual(cIds(4, 3 + missed.length + 1));
    expect(sseResets(resumed)).toBe(0);
    expect(roomView([...before, ...after])).toEqual(await allMessages(server.baseUrl, bob.token, name));
  });

  it('an id from before change ids (a plain message seq) still resumes the missed messages exactly once', async ({
    server,
    connect,
    sse,
    room,
  }) => {
    const { name, alice, bob, owner } = room;
    // Changes 1-3 post seqs 1-3; then change 4 edits 2, 5 posts 4, 6 reacts to 1, 7 posts 5, 8 deletes 3.
    for (const text of ['one', 'two', 'three']) await alice.trpc.messages.post.mutate({ room: name, text });
    await alice.trpc.messages.edit.mutate({ room: name, seq: 2, text: 'two, edited' });
    await bob.trpc.messages.post.mutate({ room: name, text: 'four' });
    await bob.trpc.messages.react.mutate({ room: name, seq: 1, emoji: '👍' });
    await bob.trpc.messages.post.mutate({ room: name, text: 'five' });
    await owner.trpc.messages.delete.mutate({ room: name, seq: 3 });
    const listed = await allMessages(server.baseUrl, bob.token, name);

    const cases: Array<[string, string[]]> = [
      // "3" was the id of the event that carried seq 3: everything after that post.
      ['3', ['update 2', 'message 4', 'update 1', 'message 5', 'update 3']],
      ['5', ['update 3']],
      ['0', ['message 1', 'message 2', 'message 3', 'update 2', 'message 4', 'update 1', 'message 5', 'update 3']],
    ];
    for (const [oldId, expected] of cases) {
      const follower = follow(connect(bob.token), name, oldId);
      await follower.until((f) => f.changes.length >= expected.length && f.presence.length > 0);
      expect(shape(follower.changes), `resume from "${oldId}"`).toEqual(expected);
      expect(follower.resets).toBe(0);
      const messages = follower.messages.map((message) => message.seq);
      expect(new Set(messages).size).toBe(messages.length);
      // Ids it gets from now on are change ids, and the view is the room's.
      expect(ids(follower.changes)).toEqual(cIds(8 - expected.length + 1, 8));
      const before = oldId === '0' ? [] : listed.filter((message) => message.seq <= Number(oldId));
      expect(roomView([...before.map((message) => ({ type: 'message', message })), ...follower.changes])).toEqual(
        listed,
      );
      follower.unsubscribe();
    }

    // SSE clients send the old id the same way.
    const stream = await sse(bob.token, name, '3');
    await stream.until((s) => sseChanges(s).length >= 5);
    expect(shape(sseChanges(stream))).toEqual(cases[0]?.[1]);
    expect(sseResets(stream)).toBe(0);

    // A message posted now reaches a client resumed from an old id exactly once.
    const resumed = follow(connect(bob.token), name, '4');
    await resumed.until((f) => f.changes.length >= 3);
    const live = (await alice.trpc.messages.post.mutate({ room: name, text: 'six' })).message;
    await resumed.until((f) => f.messages.length >= 2);
    await stream.until((s) => sseChanges(s).length >= 6);
    expect(resumed.messages.map((message) => message.seq)).toEqual([5, live.seq]);
    expect(
      sseChanges(stream)
        .filter((change) => change.type === 'message')
        .map((c) => c.message.seq),
    ).toEqual([4, 5, live.seq]);
  });

  it('more than 1000 changes behind gets reset, then continues live; 1000 behind replays them all', async ({
    connect,
    room,
  }) => {
    const { name, alice, bob } = room;
    const first = (await alice.trpc.messages.post.mutate({ room: name, text: 'edited a lot' })).message;
    // 1001 edits after the post (change 1): the head is change 1002.
    for (let batch = 0; batch < 11; batch += 1) {
      const size = batch < 10 ? 100 : 1;
      await Promise.all(
        range(1, size).map((n) =>
          alice.trpc.messages.edit.mutate({ room: name, seq: first.seq, text: `edit ${batch}-${n}` }),
        ),
      );
    }

    const far = follow(connect(bob.token), name, 'c1');
    await far.until((f) => f.resets === 1 && f.presence.length > 0);
    expect(far.changes).toEqual([]);
    const oldFar = follow(connect(bob.token), name, '1');
    await oldFar.until((f) => f.resets === 1 && f.presence.length > 0);
    expect(oldFar.changes).toEqual([]);

    const near = follow(connect(bob.token), name, 'c2');
    await near.until((f) => f.changes.length >= 1000, 30_000);
    expect(near.resets).toBe(0);
    expect(ids(near.changes)).toEqual(cIds(3, 1002));
    expect(near.changes.every((change) => change.type === 'update' && change.message.seq === first.seq)).toBe(true);

    // After the reset, the stream continues live from the head.
    const edited = (await bob.trpc.messages.react.mutate({ room: name, seq: first.seq, emoji: '👍' })).message;
    const posted = (await bob.trpc.messages.post.mutate({ room: name, text: 'after reset' })).message;
    for (const follower of [far, oldFar]) {
      await follower.until((f) => f.changes.length >= 2);
      expect(follower.changes).toEqual([
        { id: 'c1003', type: 'update', message: edited },
        { id: 'c1004', type: 'message', message: posted },
      ]);
    }

    // Ids from the future or not ids at all get a reset too.
    for (const bad of ['c999999', '999999', 'garbage', 'c-1']) {
      const follower = follow(connect(bob.token), name, bad);
      await follower.until((f) => f.resets === 1 && f.presence.length > 0);
      expect(follower.changes).toEqual([]);
      follower.unsubscribe();
    }
  }, 60_000);
});

describe('churn', () => {
  const EMOJI = ['👍', '❤️', '😂', '🎉', '🙏'];

  interface Subscriber {
    label: string;
    /** Changes from subscriptions already ended, in order. */
    earlier: Change[];
    resets: number;
    current(): Change[];
    /** Ends the current subscription and starts another from the last change id it holds. */
    resubscribe(): Promise<void>;
    stop(): void;
  }

  it('several clients edit, delete and react while others disconnect and resume: every view equals messages.list', async ({
    server,
    connect,
    sse,
    room,
  }) => {
    const { name, owner } = room;
    const actors = [room.alice, room.bob, ...(await Promise.all(range(1, 2).map(() => member(server, name))))];
    const watchers = await Promise.all(range(1, 3).map(() => member(server, name)));

    // Six WebSocket subscribers (two per watcher, each its own socket) and two SSE subscribers,
    // all from the start of the room.
    const wsSubscriber = (watcher: TestUser, index: number): Subscriber => {
      const live = connect(watcher.token);
      let follower: Follower = follow(live, name, '0');
      const subscriber: Subscriber = {
        label: `ws ${index}`,
        earlier: [],
        resets: 0,
        current: () => follower.changes,
        resubscribe: async () => {
          follower.unsubscribe();
          subscriber.earlier.push(...follower.changes);
          subscriber.resets += follower.resets;
          follower = follow(live, name, subscriber.earlier.at(-1)?.id ?? '0');
        },
        stop: () => {
          follower.unsubscribe();
          subscriber.resets += follower.resets;
        },
      };
      return subscriber;
    };
    const sseSubscriber = async (watcher: TestUser, index: number): Promise<Subscriber> => {
      let stream = await sse(watcher.token, name, '0');
      const subscriber: Subscriber = {
        label: `sse ${index}`,
        earlier: [],
        resets: 0,
        current: () => sseChanges(stream),
        resubscribe: async () => {
          stream.close();
          subscriber.earlier.push(...sseChanges(stream));
          subscriber.resets += sseResets(stream);
          stream = await sse(watcher.token, name, subscriber.earlier.at(-1)?.id ?? '0');
        },
        stop: () => {
          stream.close();
          subscriber.resets += sseResets(stream);
        },
      };
      return subscriber;
    };
    const subscribers = [
      ...watchers.flatMap((watcher, index) => [wsSubscriber(watcher, 2 * index), wsSubscriber(watcher, 2 * index + 1)]),
      ...(await Promise.all(watchers.slice(0, 2).map((watcher, index) => sseSubscriber(watcher, index)))),
    ];

    // Disconnects: a dropped socket (the client resumes by itself), or an explicit resubscribe
    // from the last id the client holds (WebSocket or SSE).
    let churning = true;
    let disconnects = 0;
    const churn = (async () => {
      while (churning) {
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30));
        if (Math.random() < 0.4) {
          const sockets = [...server.app.server.websocketServer.clients];
          sockets[Math.floor(Math.random() * sockets.length)]?.terminate();
        } else {
          await subscribers[Math.floor(Math.random() * subscribers.length)]?.resubscribe();
        }
        disconnects += 1;
      }
    })();

    // The actors: posts (some replies), edits and deletes of their own, reactions and unreactions,
    // and the room's creator moderating, over REST and tRPC at random.
    const posted: Array<{ seq: number; author: string }> = [];
    const counts = { post: 0, reply: 0, edit: 0, delete: 0, react: 0, unreact: 0, conflicts: 0 };
    const pick = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
    const act = async (actor: TestUser, step: number) => {
      const api = messageApi(Math.random() < 0.5 ? 'REST' : 'tRPC', server.baseUrl);
      const roll = Math.random();
      const mine = posted.filter((entry) => entry.author === actor.username);
      const any = pick(posted);
      let outcome: Awaited<ReturnType<typeof api.post>>;
      if (roll < 0.3 || any === undefined) {
        const replyTo = Math.random() < 0.3 ? any?.seq : undefined;
        outcome = await api.post(actor, name, `${actor.username} ${step}`, replyTo);
        if (outcome.status === 200) {
          posted.push({ seq: answered(outcome).seq, author: actor.username });
          counts[replyTo === undefined ? 'post' : 'reply'] += 1;
        }
      } else if (roll < 0.5 && mine.length > 0) {
        outcome = await api.edit(actor, name, pick(mine)?.seq ?? 1, `${actor.username} ${step} (edited)`);
        if (outcome.status === 200) counts.edit += 1;
      } else if (roll < 0.55 && mine.length > 0) {
        outcome = await api.remove(actor, name, pick(mine)?.seq ?? 1);
        if (outcome.status === 200) counts.delete += 1;
      } else if (roll < 0.8) {
        outcome = await api.react(actor, name, any.seq, pick(EMOJI) ?? '👍');
        if (outcome.status === 200) counts.react += 1;
      } else {
        outcome = await api.unreact(actor, name, any.seq, pick(EMOJI) ?? '👍');
        if (outcome.status === 200) counts.unreact += 1;
      }
      // A 409 is a race with a delete (a reply to, an edit of, a reaction to a message just deleted).
      if (outcome.status === 409) counts.conflicts += 1;
      else expect(outcome.status, outcome.failure ?? JSON.stringify(outcome.response?.body)).toBe(200);
    };
    await Promise.all(
      actors.map(async (actor) => {
        for (let step = 1; step <= 80; step += 1) await act(actor, step);
      }),
    );
    // The room's creator deletes a few messages of others.
    for (let n = 0; n < 5; n += 1) {
      const target = pick(posted);
      if (target) answered(await messageApi('tRPC', server.baseUrl).remove(owner, name, target.seq));
    }
    churning = false;
    await churn;

    // After quiet, every client's view (messages, edits, tombstones, reactions, quotes) is the room's.
    const listed = await allMessages(server.baseUrl, owner.token, name);
    const head = (await owner.trpc.rooms.list.query({})).rooms.find((summary) => summary.name === name)?.lastSeq;
    expect(listed.map((message) => message.seq)).toEqual(range(1, head ?? 0));
    for (const subscriber of subscribers) {
      await vi.waitFor(() => {
        expect(roomView([...subscriber.earlier, ...subscriber.current()]), subscriber.label).toEqual(listed);
      }, WAIT);
    }
    // Exactly once and in order: every subscriber got every change of the room, c1 to the last, once.
    const lastChange = Math.max(...subscribers.map((s) => changeOf([...s.earlier, ...s.current()].at(-1)?.id)));
    for (const subscriber of subscribers) {
      await vi.waitFor(() => {
        const all = [...subscriber.earlier, ...subscriber.current()];
        expect(ids(all), subscriber.label).toEqual(cIds(1, lastChange));
      }, WAIT);
      subscriber.stop();
      expect(subscriber.resets, subscriber.label).toBe(0);
    }
    expect(counts.edit + counts.delete + counts.react + counts.unreact).toBeGreaterThan(50);
    expect(disconnects).toBeGreaterThan(20);
    console.info(
      `live churn: ${subscribers.length} subscribers, ${disconnects} disconnects, ${lastChange} changes, ${JSON.stringify(counts)}`,
    );
  }, 90_000);
});
