import { setTimeout as sleep } from 'node:timers/promises';
import type { TRPCClientErrorLike } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MY_ROOMS_COALESCE_MS } from '../server/live/my-rooms-events.ts';
import type { AppRouter } from '../server/routers/app-router.ts';
import { rest, trpcClient, uniqueName, wsTrpcClient } from './support/clients.ts';
import { joinRoom, newUser, ok, postMany, type TestUser } from './support/fixtures.ts';
import { type Follower, follow } from './support/live.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { openSse, type SseStream } from './support/sse.ts';

/**
 * me.events (issue 13): a user's rooms with their counts, live. Every list it sends must equal
 * what rooms.mine answers at that moment; it sends one on subscribe, then only when the list
 * changed, coalescing bursts.
 */

type MyRoom = inferRouterOutputs<AppRouter>['rooms']['mine']['rooms'][number];

let server: TestServer;
const opened: Array<{ close(): void }> = [];

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMITS: 'off' });
});
afterEach(() => {
  for (const each of opened.splice(0)) each.close();
});
afterAll(() => server.close());

function connect(token: string) {
  const live = wsTrpcClient(server.baseUrl, { token });
  opened.push(live);
  return live;
}

interface MyRoomsWatcher {
  lists: MyRoom[][];
  ids: string[];
  errors: TRPCClientErrorLike<AppRouter>[];
  latest(): MyRoom[] | undefined;
  /** Waits until the newest list satisfies `check`. */
  until(check: (rooms: MyRoom[]) => boolean): Promise<MyRoom[]>;
  unsubscribe(): void;
}

function watchMine(live: ReturnType<typeof wsTrpcClient>, input?: { lastEventId?: string }): MyRoomsWatcher {
  const watcher: MyRoomsWatcher = {
    lists: [],
    ids: [],
    errors: [],
    latest: () => watcher.lists.at(-1),
    until: (check) =>
      vi.waitFor(
        () => {
          const rooms = watcher.latest();
          if (!rooms || !check(rooms)) {
            throw new Error(`not yet; ${watcher.lists.length} lists, latest ${JSON.stringify(rooms)}`);
          }
          return rooms;
        },
        { timeout: 10_000, interval: 10 },
      ),
    unsubscribe: () => subscription.unsubscribe(),
  };
  const subscription = live.client.me.events.subscribe(input, {
    onData({ id, data }) {
      watcher.ids.push(id);
      watcher.lists.push(data.rooms);
    },
    onError(error) {
      watcher.errors.push(error);
    },
  });
  opened.push({ close: () => subscription.unsubscribe() });
  return watcher;
}

const room = (rooms: MyRoom[], name: string) => rooms.find((each) => each.name === name);
const unread = (rooms: MyRoom[], name: string) => room(rooms, name)?.unreadCount;

async function mine(user: TestUser): Promise<MyRoom[]> {
  return (await user.trpc.rooms.mine.query()).rooms;
}

async function post(user: TestUser, name: string, text: string) {
  return (await user.trpc.messages.post.mutate({ room: name, text })).message;
}

/** A second session of the same user (another device): its own token. */
async function signIn(user: TestUser): Promise<TestUser> {
  const body = ok(
    await rest<{ token: string }>(server.baseUrl, 'POST', '/auth/sign-in', {
      body: { username: user.username, password: user.password },
    }),
  );
  return { ...user, token: body.token, trpc: trpcClient(server.baseUrl, body.token) };
}

describe('me.events over a WebSocket', () => {
  it('sends the list of rooms.mine on subscribe', async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const quiet = uniqueName('quiet');
    const busy = uniqueName('busy');
    await joinRoom(server.baseUrl, alice.token, quiet);
    await joinRoom(server.baseUrl, alice.token, busy);
    await joinRoom(server.baseUrl, bob.token, busy);
    await post(bob, busy, `hi @${alice.username}`);

    const watcher = watchMine(connect(alice.token));
    const first = await watcher.until(() => true);
    expect(first).toEqual(await mine(alice));
    expect(first.map((each) => each.name)).toEqual([busy, quiet]);
    expect(room(first, busy)).toMatchObject({ unreadCount: 1, mentionCount: 1, lastSeq: 1 });
    // Tracked with an opaque id (not a message seq: the stream is state, not history).
    expect(watcher.ids[0]).toMatch(/\./);
  });

  it("counts another user's posts, and two tabs clear together when a third session reads", async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('tabs');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    const tabs = [watchMine(connect(alice.token)), watchMine(connect(alice.token))];
    await Promise.all(tabs.map((tab) => tab.until((rooms) => unread(rooms, name) === 0)));

    await post(bob, name, 'one');
    await post(bob, name, `two @${alice.username}`);
    for (const tab of tabs) {
      const rooms = await tab.until((list) => unread(list, name) === 2);
      expect(room(rooms, name)).toMatchObject({ unreadCount: 2, mentionCount: 1, lastSeq: 2, lastReadSeq: 0 });
      expect(rooms).toEqual(await mine(alice));
    }

    // Another device: a session of its own, over HTTP.
    const phone = await signIn(alice);
    await phone.trpc.rooms.markRead.mutate({ room: name, seq: 2 });
    for (const tab of tabs) {
      const rooms = await tab.until((list) => unread(list, name) === 0);
      expect(room(rooms, name)).toMatchObject({ unreadCount: 0, mentionCount: 0, lastReadSeq: 2 });
    }
  });

  it('follows deletes and edits of unread messages', async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('edits');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    const watcher = watchMine(connect(alice.token));
    await watcher.until((rooms) => room(rooms, name) !== undefined);

    const first = await post(bob, name, 'plain');
    await post(bob, name, 'another');
    await watcher.until((rooms) => unread(rooms, name) === 2);
    await bob.trpc.messages.edit.mutate({ room: name, seq: first.seq, text: `now for @${alice.username}` });
    await watcher.until((rooms) => room(rooms, name)?.mentionCount === 1);
    await bob.trpc.messages.delete.mutate({ room: name, seq: first.seq });
    const rooms = await watcher.until((list) => unread(list, name) === 1 && room(list, name)?.mentionCount === 0);
    expect(rooms).toEqual(await mine(alice));
  });

  it('adds a joined room and drops a left one', async () => {
    const alice = await newUser(server.baseUrl);
    const first = uniqueName('first');
    const second = uniqueName('second');
    await joinRoom(server.baseUrl, alice.token, first);
    const watcher = watchMine(connect(alice.token));
    await watcher.until((rooms) => rooms.length === 1);

    // From another session: the stream learns it through the user's channel, not its own calls.
    const other = await signIn(alice);
    await joinRoom(server.baseUrl, other.token, second);
    await watcher.until((rooms) => rooms.length === 2 && room(rooms, second) !== undefined);
    await post(other, second, 'mine');
    await watcher.until((rooms) => room(rooms, second)?.lastSeq === 1);

    expect(await other.trpc.rooms.leave.mutate({ room: first })).toEqual({ left: true });
    const rooms = await watcher.until((list) => list.length === 1);
    expect(rooms.map((each) => each.name)).toEqual([second]);
    expect(rooms).toEqual(await mine(alice));

    // A room it no longer follows changes nothing.
    const bob = await newUser(server.baseUrl);
    await joinRoom(server.baseUrl, bob.token, first);
    const sent = watcher.lists.length;
    await post(bob, first, 'not yours any more');
    await post(other, second, 'marker');
    await watcher.until((list) => room(list, second)?.lastSeq === 2);
    expect(watcher.lists.length).toBe(sent + 1);
  });

  it('coalesces a burst into far fewer lists, the last one exact', async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('burst');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    const watcher = watchMine(connect(alice.token));
    await watcher.until((rooms) => room(rooms, name) !== undefined);
    const before = watcher.lists.length;

    // Concurrently, in batches: a burst as a busy room has it.
    const texts = Array.from({ length: 50 }, (_, index) => `burst ${index + 1}`);
    for (let index = 0; index < texts.length; index += 10) {
      await Promise.all(texts.slice(index, index + 10).map((text) => post(bob, name, text)));
    }
    const rooms = await watcher.until((list) => unread(list, name) === 50);
    expect(rooms).toEqual(await mine(alice));
    expect(room(rooms, name)?.lastSeq).toBe(50);
    const sent = watcher.lists.length - before;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(15);
  });

  it('sends nothing when nothing changed; an own post changes lastSeq and is sent', async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('still');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    await post(bob, name, 'read me');
    await alice.trpc.rooms.markRead.mutate({ room: name, seq: 1 });
    const watcher = watchMine(connect(alice.token));
    await watcher.until((rooms) => room(rooms, name)?.lastReadSeq === 1);
    // The re-read after subscribing (see my-rooms-events.ts) finds the same list: nothing more is sent.
    const sent = watcher.lists.length;

    // None of these change alice's list: a marker that cannot move back, a join of a room she is
    // in, presence and typing in her room, a reaction.
    await alice.trpc.rooms.markRead.mutate({ room: name, seq: 1 });
    await alice.trpc.rooms.markRead.mutate({ room: name, seq: 0 });
    await joinRoom(server.baseUrl, alice.token, name);
    const bobLive = follow(connect(bob.token), name);
    await bobLive.until((f) => f.presence.length > 0);
    await bob.trpc.rooms.typing.mutate({ room: name });
    await bob.trpc.messages.react.mutate({ room: name, seq: 1, emoji: '👍' });
    // An absence can only be seen by waiting: two coalescing windows, in which a list would have gone out.
    await sleep(2 * MY_ROOMS_COALESCE_MS);
    expect(watcher.lists.length).toBe(sent);

    // Her own post: unread stays 0, but lastSeq and lastMessageAt are part of the list.
    const own = await post(alice, name, 'my answer');
    const rooms = await watcher.until((list) => room(list, name)?.lastSeq === own.seq);
    expect(room(rooms, name)).toMatchObject({ unreadCount: 0, lastMessageAt: own.createdAt });
    expect(watcher.lists.length).toBe(sent + 1);
  });

  it('starts over with the current list on a resubscribe (no replay)', async () => {
    const alice = await newUser(server.baseUrl);
    const name = uniqueName('again');
    await joinRoom(server.baseUrl, alice.token, name);
    const first = watchMine(connect(alice.token));
    await first.until((rooms) => rooms.length === 1);
    await post(alice, name, 'later');
    await first.until((rooms) => room(rooms, name)?.lastSeq === 1);
    const second = watchMine(connect(alice.token), { lastEventId: first.ids[0] });
    const rooms = await second.until(() => true);
    expect(room(rooms, name)?.lastSeq).toBe(1);
  });

  it('takes one subscription slot: a second me.events on the socket is refused', async () => {
    const alice = await newUser(server.baseUrl);
    const live = connect(alice.token);
    const first = watchMine(live);
    await first.until(() => true);
    const second = watchMine(live);
    await vi.waitFor(() => expect(second.errors.length).toBe(1));
    expect(second.errors[0]?.data?.code).toBe('CONFLICT');
    expect(server.app.deps.connections.stats().subscriptions).toBeGreaterThanOrEqual(1);
  });
});

describe('leave', () => {
  it("ends the user's rooms.events of the room on every connection and drops them from presence", async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('leave');
    const kept = uniqueName('kept');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, alice.token, kept);
    await joinRoom(server.baseUrl, bob.token, name);
    await joinRoom(server.baseUrl, bob.token, kept);
    const laptop = connect(alice.token);
    const aliceStreams: Follower[] = [follow(laptop, name), follow(connect(alice.token), name)];
    const stays = follow(laptop, kept);
    const bobStream = follow(connect(bob.token), name);
    const sse = await openSse(server.baseUrl, 'rooms.events', { room: name }, alice.token);
    opened.push(sse);
    await bobStream.until((f) => f.presence.at(-1)?.includes(alice.username) === true);
    await sse.until((stream) => stream.data().length > 0);
    const mineWatcher = watchMine(laptop);
    await mineWatcher.until((rooms) => rooms.length === 2);

    expect(await alice.trpc.rooms.leave.mutate({ room: name })).toEqual({ left: true });
    for (const stream of aliceStreams) {
      await stream.until((f) => f.errors.length === 1);
      expect((stream.errors[0] as { data?: { code?: string } }).data?.code).toBe('FORBIDDEN');
    }
    await sse.until((stream) => stream.ended);
    expect(sse.events.some((event) => event.event === 'serialized-error' && event.data.includes('You left'))).toBe(
      true,
    );
    await bobStream.until((f) => f.presence.at(-1)?.includes(alice.username) === false);
    await mineWatcher.until((rooms) => rooms.length === 1 && rooms[0]?.name === kept);

    // Nothing else on that socket ended, and the room's messages no longer reach her.
    await post(bob, name, 'after she left');
    await post(bob, kept, 'still here');
    await stays.until((f) => f.messages.length === 1);
    expect(aliceStreams.every((stream) => stream.messages.length === 0)).toBe(true);
    expect(bobStream.errors).toEqual([]);
  });
});

describe('me.events over SSE', () => {
  it('sends the list first, then changes, and counts against the live-connection caps', async () => {
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    const name = uniqueName('sse');
    await joinRoom(server.baseUrl, alice.token, name);
    await joinRoom(server.baseUrl, bob.token, name);
    const streamsBefore = server.app.deps.connections.stats().streams;
    const sse: SseStream = await openSse(server.baseUrl, 'me.events', {}, alice.token);
    opened.push(sse);
    expect(sse.status).toBe(200);
    const lists = () =>
      sse
        .data()
        .map((event) => event.data as { type: string; rooms: MyRoom[] })
        .filter((event) => event.type === 'rooms');
    await sse.until(() => lists().length === 1);
    expect(lists()[0]?.rooms).toEqual(await mine(alice));
    expect(server.app.deps.connections.stats().streams).toBe(streamsBefore + 1);

    await postMany(server.baseUrl, bob.token, name, 3);
    await sse.until(() => unread(lists().at(-1)?.rooms ?? [], name) === 3);
    expect(sse.data().at(-1)?.id).toMatch(/\./);
    await alice.trpc.rooms.markRead.mutate({ room: name, seq: 3 });
    await sse.until(() => unread(lists().at(-1)?.rooms ?? [], name) === 0);
    sse.close();
    await vi.waitFor(() => expect(server.app.deps.connections.stats().streams).toBe(streamsBefore));
  });
});
