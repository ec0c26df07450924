import { describe, expect, vi } from 'vitest';
import { answered, type MessageApi, messageApi, type Outcome, refused, type TransportName } from './support/changes.ts';
import { type RestResponse, rest, trpcClient, uniqueName } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  joinRoom,
  type Member,
  type MessageDto,
  type MessagePage,
  newUser,
  ok,
  type TestUser,
  trpcFailure,
} from './support/fixtures.ts';
import { roomOfFour } from './support/room-of-four.ts';
import type { TestServer } from './support/server.ts';

/** One entry of rooms.mine, as issue 13's contract names its fields. */
interface MyRoom {
  name: string;
  unreadCount: number;
  mentionCount: number;
  lastReadSeq: number;
  lastSeq: number;
  lastMessageAt: string | null;
}

const MY_ROOM_KEYS = ['name', 'unreadCount', 'mentionCount', 'lastReadSeq', 'lastSeq', 'lastMessageAt'];

interface AroundPage extends MessagePage {
  hasMoreBefore?: boolean;
  hasMoreAfter?: boolean;
}

/** Issue 13's rooms.mine, read markers, leave, `around` and mentions over real HTTP: one server per file. */
const it = roomOfFour({ roomPrefix: 'mine', bobName: 'Bob' });

/** rooms.mine over both transports: they must answer the same list, each entry with exactly the contract's keys. */
async function mine(server: TestServer, user: TestUser): Promise<MyRoom[]> {
  const viaRest = ok(await rest<{ rooms: MyRoom[] }>(server.baseUrl, 'GET', '/me/rooms', { token: user.token }));
  expect(Object.keys(viaRest)).toEqual(['rooms']);
  const viaTrpc = await user.trpc.rooms.mine.query();
  expect(viaTrpc).toEqual(viaRest);
  for (const entry of viaRest.rooms) expect(Object.keys(entry)).toEqual(MY_ROOM_KEYS);
  return viaRest.rooms;
}

/** The user's entry for one room, or undefined when it is not among their rooms. */
async function myRoom(server: TestServer, user: TestUser, room: string): Promise<MyRoom | undefined> {
  return (await mine(server, user)).find((entry) => entry.name === room);
}

async function counts(server: TestServer, user: TestUser, room: string) {
  const entry = await myRoom(server, user, room);
  if (!entry) throw new Error(`${room} is not among ${user.username}'s rooms`);
  return { unread: entry.unreadCount, mentions: entry.mentionCount, read: entry.lastReadSeq, head: entry.lastSeq };
}

/** What one markRead / leave / list call answered, over either transport (refused() reads it). */
interface Answer<T> extends Outcome {
  body?: T;
}

async function overRest<T>(response: Promise<RestResponse<unknown>>): Promise<Answer<T>> {
  const answer = await response;
  return answer.status === 200
    ? { status: 200, body: answer.body as T, response: answer }
    : { status: answer.status, response: answer };
}

async function overTrpc<T>(call: Promise<T>): Promise<Answer<T>> {
  try {
    return { status: 200, body: await call };
  } catch (error) {
    const failure = await trpcFailure(Promise.reject(error));
    return { status: failure.status, failure: failure.message };
  }
}

function body<T>(answer: Answer<T>): T {
  if (answer.status !== 200 || answer.body === undefined) {
    throw new Error(`expected 200, got ${answer.status}: ${answer.failure ?? JSON.stringify(answer.response?.body)}`);
  }
  return answer.body;
}

type ListQuery = { around?: unknown; before?: unknown; after?: unknown; limit?: unknown };

/** rooms.markRead, rooms.leave and messages.list over one transport. */
interface RoomsApi {
  markRead(user: TestUser, room: string, seq: unknown): Promise<Answer<{ lastReadSeq: number }>>;
  leave(user: TestUser, room: string): Promise<Answer<{ left: boolean }>>;
  list(user: TestUser, room: string, query: ListQuery): Promise<Answer<AroundPage>>;
}

function roomsApi(via: TransportName, baseUrl: string): RoomsApi {
  if (via === 'REST') {
    return {
      markRead: (user, room, seq) =>
        overRest(
          rest(baseUrl, 'POST', `/rooms/${room}/read`, { token: user.token, body: seq === undefined ? {} : { seq } }),
        ),
      leave: (user, room) => overRest(rest(baseUrl, 'POST', `/rooms/${room}/leave`, { token: user.token, body: {} })),
      list: (user, room, query) => {
        const search = new URLSearchParams(
          Object.entries(query).map(([key, value]) => [key, String(value)] as [string, string]),
        );
        return overRest(rest(baseUrl, 'GET', `/rooms/${room}/messages?${search}`, { token: user.token }));
      },
    };
  }
  return {
    // Deliberately untyped where a test sends what a typed client could not.
    markRead: (user, room, seq) => overTrpc(user.trpc.rooms.markRead.mutate({ room, seq } as never)),
    leave: (user, room) => overTrpc(user.trpc.rooms.leave.mutate({ room })),
    list: (user, room, query) => overTrpc(user.trpc.messages.list.query({ room, ...query } as never)),
  };
}

/** Waits until the server's clock must have moved past `iso` (a timestamp it answered). */
async function clockPast(iso: string): Promise<void> {
  await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(Date.parse(iso) + 2), { interval: 2 });
}

/** A second session of the same user (another tab or device): its own token, its own client. */
async function secondSession(server: TestServer, user: TestUser): Promise<TestUser> {
  const signedIn = ok(
    await rest<{ token: string }>(server.baseUrl, 'POST', '/auth/sign-in', {
      body: { username: user.username, password: user.password },
    }),
  );
  expect(signedIn.token).not.toBe(user.token);
  return { ...user, token: signedIn.token, trpc: trpcClient(server.baseUrl, signedIn.token) };
}

async function members(server: TestServer, user: TestUser, room: string): Promise<Member[]> {
  return ok(await rest<{ users: Member[] }>(server.baseUrl, 'GET', `/rooms/${room}/users`, { token: user.token }))
    .users;
}

const seqs = (page: { messages: MessageDto[] }) => page.messages.map((message) => message.seq);

describe('rooms.mine and GET /api/me/rooms', () => {
  it('answers {rooms: []} for a user in no room, and 401 without a session', async ({ server }) => {
    const loner = await newUser(server.baseUrl, uniqueName('loner'));
    expect(await mine(server, loner)).toEqual([]);
    expectRestError(await rest(server.baseUrl, 'GET', '/me/rooms'), 401);
    await expectTrpcError(trpcClient(server.baseUrl).rooms.mine.query(), 401);
  });

  it('lists only my rooms, most recent activity first, rooms without messages last by name', async ({
    server,
    users: { owner },
  }) => {
    const me = await newUser(server.baseUrl, uniqueName('me'));
    const api = messageApi('REST', server.baseUrl);
    const prefix = uniqueName('order');
    // Names chosen so that no collation can sort them differently: only the last letter differs.
    const [quietB, quietA, first, second, third] = ['qb', 'qa', 'x', 'y', 'z'].map((suffix) => `${prefix}-${suffix}`);
    for (const room of [quietB, quietA, first, second, third]) {
      await joinRoom(server.baseUrl, owner.token, room as string);
      await joinRoom(server.baseUrl, me.token, room as string);
    }
    // A room with activity that I am not in.
    const elsewhere = `${prefix}-elsewhere`;
    await joinRoom(server.baseUrl, owner.token, elsewhere);

    let last = '';
    for (const room of [third, first, second]) {
      if (last) await clockPast(last);
      last = answered(await api.post(owner, room as string, `in ${room}`)).createdAt;
    }
    await clockPast(last);
    answered(await api.post(owner, elsewhere, 'not for me'));

    let rooms = await mine(server, me);
    expect(rooms.map((entry) => entry.name)).toEqual([second, first, third, quietA, quietB]);
    const secondMessage = (await allMessages(server.baseUrl, me.token, second as string))[0];
    expect(rooms[0]).toEqual({
      name: second,
      unreadCount: 1,
      mentionCount: 0,
      lastReadSeq: 0,
      lastSeq: 1,
      lastMessageAt: secondMessage?.createdAt,
    });
    expect(rooms[3]).toEqual({
      name: quietA,
      unreadCount: 0,
      mentionCount: 0,
      lastReadSeq: 0,
      lastSeq: 0,
      lastMessageAt: null,
    });

    // My own post is activity too, and moves its room to the top without counting as unread.
    await clockPast(rooms[0]?.lastMessageAt ?? '');
    const mineNow = answered(await api.post(me, third as string, 'me, in the oldest room'));
    rooms = await mine(server, me);
    expect(rooms.map((entry) => entry.name)).toEqual([third, second, first, quietA, quietB]);
    expect(rooms[0]).toEqual({
      name: third,
      unreadCount: 1,
      mentionCount: 0,
      lastReadSeq: 0,
      lastSeq: 2,
      lastMessageAt: mineNow.createdAt,
    });
  });
});

describe('unread and mention counts stop at 1000', () => {
  it('1001 unread mentions count as 1000 of each; reading one leaves 1000, reading two 999', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    const text = `@${bob.username} ping`;
    // Ten posters at a time: the order of seqs does not matter here, only how many there are.
    for (let batch = 0; batch < 1001; batch += 10) {
      const size = Math.min(10, 1001 - batch);
      await Promise.all(
        Array.from({ length: size }, async () =>
          ok(await rest(server.baseUrl, 'POST', `/rooms/${room}/messages`, { token: alice.token, body: { text } })),
        ),
      );
    }
    expect(await counts(server, bob, room)).toEqual({ unread: 1000, mentions: 1000, read: 0, head: 1001 });
    await bob.trpc.rooms.markRead.mutate({ room, seq: 1 });
    expect(await counts(server, bob, room)).toEqual({ unread: 1000, mentions: 1000, read: 1, head: 1001 });
    await bob.trpc.rooms.markRead.mutate({ room, seq: 2 });
    expect(await counts(server, bob, room)).toEqual({ unread: 999, mentions: 999, read: 2, head: 1001 });
  }, 120_000);
});

describe.each<TransportName>(['REST', 'tRPC'])('read markers and unread counts over %s', (via) => {
  const apisOf = (server: TestServer): { messages: MessageApi; rooms: RoomsApi } => ({
    messages: messageApi(via, server.baseUrl),
    rooms: roomsApi(via, server.baseUrl),
  });

  it('unread counts are exact after posts by others, my own posts and deletes', async ({
    server,
    users: { owner, alice, bob },
    room,
  }) => {
    const { messages } = apisOf(server);
    expect(await counts(server, bob, room)).toEqual({ unread: 0, mentions: 0, read: 0, head: 0 });

    const posted: MessageDto[] = [];
    for (const text of ['one', 'two', 'three']) posted.push(answered(await messages.post(alice, room, text)));
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 0, read: 0, head: 3 });
    expect(await counts(server, alice, room)).toEqual({ unread: 0, mentions: 0, read: 0, head: 3 });

    // Bob's own post is not unread for him, and is for alice.
    answered(await messages.post(bob, room, 'mine'));
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 0, read: 0, head: 4 });
    expect(await counts(server, alice, room)).toEqual({ unread: 1, mentions: 0, read: 0, head: 4 });

    // A deleted message is no longer unread, whoever deletes it (its author, or the room's creator).
    answered(await messages.remove(alice, room, posted[0]?.seq ?? 0));
    expect(await counts(server, bob, room)).toEqual({ unread: 2, mentions: 0, read: 0, head: 4 });
    answered(await messages.remove(owner, room, posted[1]?.seq ?? 0));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 0, read: 0, head: 4 });
    expect(await counts(server, owner, room)).toEqual({ unread: 2, mentions: 0, read: 0, head: 4 });

    // Edits and reactions change nothing.
    answered(await messages.edit(alice, room, posted[2]?.seq ?? 0, 'three, edited'));
    answered(await messages.react(bob, room, posted[2]?.seq ?? 0, '👍'));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 0, read: 0, head: 4 });
  });

  it('marks from two sessions of one user agree; the marker only moves forward and is clamped at the head', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    const { messages, rooms } = apisOf(server);
    for (const text of ['1', '2', '3', '4', '5']) answered(await messages.post(alice, room, text));
    const tab = await secondSession(server, bob);

    expect(body(await rooms.markRead(tab, room, 2))).toEqual({ lastReadSeq: 2 });
    // The first session sees the second one's read.
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 0, read: 2, head: 5 });
    expect(await counts(server, tab, room)).toEqual({ unread: 3, mentions: 0, read: 2, head: 5 });

    // An older seq, from either session, leaves the marker where it is.
    expect(body(await rooms.markRead(bob, room, 1))).toEqual({ lastReadSeq: 2 });
    expect(body(await rooms.markRead(tab, room, 0))).toEqual({ lastReadSeq: 2 });
    expect(body(await rooms.markRead(bob, room, 2))).toEqual({ lastReadSeq: 2 });
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 0, read: 2, head: 5 });

    expect(body(await rooms.markRead(bob, room, 4))).toEqual({ lastReadSeq: 4 });
    expect(await counts(server, tab, room)).toEqual({ unread: 1, mentions: 0, read: 4, head: 5 });

    // Past the head: clamped to it, and a later message is unread again.
    expect(body(await rooms.markRead(tab, room, 1_000_000))).toEqual({ lastReadSeq: 5 });
    expect(await counts(server, bob, room)).toEqual({ unread: 0, mentions: 0, read: 5, head: 5 });
    answered(await messages.post(alice, room, '6'));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 0, read: 5, head: 6 });
    expect(body(await rooms.markRead(bob, room, Number.MAX_SAFE_INTEGER))).toEqual({ lastReadSeq: 6 });
    expect(await counts(server, tab, room)).toEqual({ unread: 0, mentions: 0, read: 6, head: 6 });

    // Marking an empty room (head 0) read is 0; alice's marker never moved with bob's.
    const empty = uniqueName('empty');
    await joinRoom(server.baseUrl, bob.token, empty);
    expect(body(await rooms.markRead(bob, empty, 7))).toEqual({ lastReadSeq: 0 });
    expect(await counts(server, alice, room)).toEqual({ unread: 0, mentions: 0, read: 0, head: 6 });
  });

  it('a deleted message after the marker stops counting; one before it changes nothing', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    const { messages, rooms } = apisOf(server);
    const posted: MessageDto[] = [];
    for (const text of ['a', 'b', 'c', 'd']) posted.push(answered(await messages.post(alice, room, text)));
    body(await rooms.markRead(bob, room, 2));
    answered(await messages.remove(alice, room, posted[0]?.seq ?? 0));
    expect(await counts(server, bob, room)).toEqual({ unread: 2, mentions: 0, read: 2, head: 4 });
    answered(await messages.remove(alice, room, posted[3]?.seq ?? 0));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 0, read: 2, head: 4 });
  });

  it('markRead refuses a non-member (403), an unknown room (404) and a bad seq or room name (400)', async ({
    server,
    users: { alice, outsider },
    room,
  }) => {
    const { messages, rooms } = apisOf(server);
    answered(await messages.post(alice, room, 'hello'));
    refused(await rooms.markRead(outsider, room, 1), 403);
    expect(await myRoom(server, outsider, room)).toBeUndefined();
    refused(await rooms.markRead(alice, uniqueName('never'), 1), 404);
    for (const seq of [-1, 1.5, 'x', '', null, true]) refused(await rooms.markRead(alice, room, seq), 400, 'seq');
    refused(await rooms.markRead(alice, room, undefined), 400, 'seq');
    refused(await rooms.markRead(alice, 'no spaces!', 1), 400, 'room');
    // A whole number as a string is a seq, as it is everywhere else.
    expect(body(await rooms.markRead(alice, room, '1'))).toEqual({ lastReadSeq: 1 });
    await expectTrpcError(trpcClient(server.baseUrl).rooms.markRead.mutate({ room, seq: 1 }), 401);
    expectRestError(await rest(server.baseUrl, 'POST', `/rooms/${room}/read`, { body: { seq: 1 } }), 401);
  });

  it('mentionCount counts unread messages that mention me; edits, deletes and reads update it', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    const { messages, rooms } = apisOf(server);
    const shout = answered(await messages.post(alice, room, `hey @${bob.username.toUpperCase()}!`));
    expect(shout.mentions).toEqual([bob.username]);
    const twice = answered(
      await messages.post(alice, room, `@${bob.username} and again @${bob.username.toLowerCase()}`),
    );
    expect(twice.mentions).toEqual([bob.username]);
    answered(await messages.post(alice, room, 'no mention here'));
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 2, read: 0, head: 3 });
    // Mentioning alice does not count for bob, and my own mention of me is not unread.
    answered(await messages.post(alice, room, `@${alice.username} talks to herself`));
    answered(await messages.post(bob, room, `note to self @${bob.username}`));
    expect(await counts(server, bob, room)).toEqual({ unread: 4, mentions: 2, read: 0, head: 5 });
    expect(await counts(server, alice, room)).toEqual({ unread: 1, mentions: 0, read: 0, head: 5 });

    // An edit that drops the mention drops it from the count; one that adds it adds it.
    answered(await messages.edit(alice, room, shout.seq, 'hey everyone'));
    expect(await counts(server, bob, room)).toEqual({ unread: 4, mentions: 1, read: 0, head: 5 });
    answered(await messages.edit(alice, room, 3, `no mention here, @${bob.username}`));
    expect(await counts(server, bob, room)).toEqual({ unread: 4, mentions: 2, read: 0, head: 5 });
    answered(await messages.remove(alice, room, twice.seq));
    expect(await counts(server, bob, room)).toEqual({ unread: 3, mentions: 1, read: 0, head: 5 });

    // Read past it: no longer counted.
    body(await rooms.markRead(bob, room, 3));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 0, read: 3, head: 5 });
  });

  it('leave: the room leaves my rooms and the member list, posting is 403 until a re-join, which starts read at the head', async ({
    server,
    users: { owner, alice, bob },
    room,
  }) => {
    const { messages, rooms } = apisOf(server);
    const bobs = [answered(await messages.post(bob, room, 'bob 1')), answered(await messages.post(bob, room, 'bob 2'))];
    answered(await messages.post(alice, room, 'alice 1'));
    expect((await members(server, owner, room)).map((member) => member.username)).toContain(bob.username);

    expect(body(await rooms.leave(bob, room))).toEqual({ left: true });
    expect(await myRoom(server, bob, room)).toBeUndefined();
    expect((await members(server, owner, room)).map((member) => member.username)).toEqual([
      owner.username,
      alice.username,
    ]);
    // The room's summary counts one member fewer (a join by a member changes nothing and answers it).
    expect((await joinRoom(server.baseUrl, alice.token, room)).room.memberCount).toBe(2);
    refused(await messages.post(bob, room, 'after leaving'), 403);
    refused(await rooms.markRead(bob, room, 1), 403);
    // Leaving twice: nothing to leave.
    expect(body(await rooms.leave(bob, room))).toEqual({ left: false });
    // Still readable, as every room is.
    expect((await allMessages(server.baseUrl, bob.token, room)).map((message) => message.seq)).toEqual([1, 2, 3]);

    // What happened while bob was away is not unread after the re-join, and his posts count again.
    answered(await messages.post(alice, room, 'while bob was away'));
    // Deleting needs membership too: the room's creator deletes one of bob's posts meanwhile.
    answered(await messages.remove(owner, room, bobs[0]?.seq ?? 0));
    const rejoined = await joinRoom(server.baseUrl, bob.token, room);
    expect(rejoined).toMatchObject({ created: false, room: { memberCount: 3 } });
    expect(await counts(server, bob, room)).toEqual({ unread: 0, mentions: 0, read: 4, head: 4 });
    const back = (await members(server, owner, room)).find((member) => member.username === bob.username);
    expect(back?.messageCount).toBe(1);
    answered(await messages.post(bob, room, 'back'));
    answered(await messages.post(alice, room, `welcome back @${bob.username}`));
    expect(await counts(server, bob, room)).toEqual({ unread: 1, mentions: 1, read: 4, head: 6 });
    expect((await members(server, owner, room)).find((member) => member.username === bob.username)?.messageCount).toBe(
      2,
    );
  });

  it('leave: an unknown room is 404, a bad room name 400, a room I never joined {left: false}', async ({
    server,
    users: { outsider },
    room,
  }) => {
    const { rooms } = apisOf(server);
    refused(await rooms.leave(outsider, uniqueName('never')), 404);
    refused(await rooms.leave(outsider, 'no spaces!'), 400, 'room');
    expect(body(await rooms.leave(outsider, room))).toEqual({ left: false });
  });

  it('a new member of a busy room starts with nothing unread', async ({ server, users: { alice }, room }) => {
    const { messages } = apisOf(server);
    for (const text of ['x', 'y', 'z']) answered(await messages.post(alice, room, text));
    const newcomer = await newUser(server.baseUrl, uniqueName('newcomer'));
    await joinRoom(server.baseUrl, newcomer.token, room);
    expect(await counts(server, newcomer, room)).toEqual({ unread: 0, mentions: 0, read: 3, head: 3 });
    answered(await messages.post(alice, room, `hi @${newcomer.username}`));
    expect(await counts(server, newcomer, room)).toEqual({ unread: 1, mentions: 1, read: 3, head: 4 });
  });
});

describe.each<TransportName>(['REST', 'tRPC'])('messages.list around over %s', (via) => {
  it('answers a page centred on the seq, with hasMoreBefore and hasMoreAfter', async ({
    server,
    users: { alice },
    room,
  }) => {
    const messages = messageApi(via, server.baseUrl);
    const { list } = roomsApi(via, server.baseUrl);
    for (let index = 1; index <= 9; index += 1) answered(await messages.post(alice, room, `m${index}`));

    const listed = await allMessages(server.baseUrl, alice.token, room);
    // [around, limit, the page's seqs, hasMoreBefore, hasMoreAfter], in a room of seqs 1..9.
    const cases: [number, number, number[], boolean, boolean][] = [
      [5, 3, [4, 5, 6], true, true],
      [5, 1, [5], true, true],
      [5, 5, [3, 4, 5, 6, 7], true, true],
      // At the start or the end of the room the other side fills the page.
      [1, 3, [1, 2, 3], false, true],
      [2, 5, [1, 2, 3, 4, 5], false, true],
      [9, 3, [7, 8, 9], true, false],
      [8, 5, [5, 6, 7, 8, 9], true, false],
      // Past the head (a link to a message that never came): the newest page.
      [50, 3, [7, 8, 9], true, false],
      [5, 9, [1, 2, 3, 4, 5, 6, 7, 8, 9], false, false],
      [5, 20, [1, 2, 3, 4, 5, 6, 7, 8, 9], false, false],
    ];
    for (const [around, limit, expected, hasMoreBefore, hasMoreAfter] of cases) {
      const page = body(await list(alice, room, { around, limit }));
      const label = `around=${around}&limit=${limit}`;
      expect.soft(seqs(page), label).toEqual(expected);
      expect.soft(page.messages, label).toEqual(listed.filter((message) => expected.includes(message.seq)));
      expect
        .soft({ hasMore: page.hasMore, hasMoreBefore: page.hasMoreBefore, hasMoreAfter: page.hasMoreAfter }, label)
        .toEqual({ hasMore: hasMoreBefore || hasMoreAfter, hasMoreBefore, hasMoreAfter });
    }

    // The default page size holds the whole room.
    expect(seqs(body(await list(alice, room, { around: 5 })))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // An even limit: contiguous, the seq included, something on both sides.
    const even = seqs(body(await list(alice, room, { around: 5, limit: 4 })));
    expect(even).toHaveLength(4);
    expect(even).toContain(5);
    expect(even[0]).toBeLessThan(5);
    expect(even[3]).toBeGreaterThan(5);
    expect(even).toEqual(Array.from({ length: 4 }, (_, index) => (even[0] ?? 0) + index));
  });

  it('centres on a deleted message too (its tombstone), so a jump to it still lands', async ({
    server,
    users: { alice },
    room,
  }) => {
    const messages = messageApi(via, server.baseUrl);
    const { list } = roomsApi(via, server.baseUrl);
    for (let index = 1; index <= 5; index += 1) answered(await messages.post(alice, room, `m${index}`));
    answered(await messages.remove(alice, room, 3));
    const page = body(await list(alice, room, { around: 3, limit: 3 }));
    expect(seqs(page)).toEqual([2, 3, 4]);
    expect(page.messages[1]).toMatchObject({ seq: 3, text: '', mentions: [] });
  });

  it('around with before or after is 400, as is a bad around; an unknown room 404', async ({
    server,
    users: { alice },
    room,
  }) => {
    const { list } = roomsApi(via, server.baseUrl);
    refused(await list(alice, room, { around: 5, before: 6 }), 400, 'around');
    refused(await list(alice, room, { around: 5, after: 2 }), 400, 'around');
    refused(await list(alice, room, { around: 5, before: 6, after: 2 }), 400);
    refused(await list(alice, room, { around: -1 }), 400, 'around');
    refused(await list(alice, room, { around: 'x' }), 400, 'around');
    refused(await list(alice, room, { around: 1, limit: 0 }), 400, 'limit');
    refused(await list(alice, uniqueName('never'), { around: 1 }), 404);
    expect(body(await list(alice, room, { around: 1 }))).toMatchObject({ messages: [], hasMore: false });
  });
});

describe.each<TransportName>(['REST', 'tRPC'])('mentions through the API over %s', (via) => {
  /** Posts `text` as alice and checks the answer and the listed message mention the same users. */
  async function mentionsOf(server: TestServer, author: TestUser, room: string, text: string): Promise<string[]> {
    const posted = answered(await messageApi(via, server.baseUrl).post(author, room, text));
    const listed = (await allMessages(server.baseUrl, author.token, room)).find(
      (message) => message.seq === posted.seq,
    );
    expect(listed).toEqual(posted);
    return posted.mentions;
  }

  it('@name in any letter case is the canonical username, once; unknown names are not mentions', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    // bob signed up with a capital: "Bob_…".
    expect(bob.username).not.toBe(bob.username.toLowerCase());
    const lower = bob.username.toLowerCase();
    expect(await mentionsOf(server, alice, room, `@${lower} hi`)).toEqual([bob.username]);
    expect(await mentionsOf(server, alice, room, `hi @${bob.username.toUpperCase()}`)).toEqual([bob.username]);
    expect(await mentionsOf(server, alice, room, `@${lower} @${bob.username} @${lower}`)).toEqual([bob.username]);
    expect(await mentionsOf(server, alice, room, '@nobody_by_this_name hello')).toEqual([]);
    expect(await mentionsOf(server, alice, room, `@nobody_by_this_name and @${lower}`)).toEqual([bob.username]);
    expect(await mentionsOf(server, alice, room, '@ alone, and @@ and @')).toEqual([]);
    // In order of first appearance.
    expect(await mentionsOf(server, alice, room, `@${alice.username} then @${lower}`)).toEqual([
      alice.username,
      bob.username,
    ]);
    expect(await mentionsOf(server, alice, room, `@${lower} then @${alice.username} then @${lower}`)).toEqual([
      bob.username,
      alice.username,
    ]);
  });

  it('e-mail-like text is not a mention; punctuation around a name is', async ({
    server,
    users: { alice, bob },
    room,
  }) => {
    const name = bob.username.toLowerCase();
    for (const text of [
      `write to x@${name}.com`,
      `x@${name}`,
      `${alice.username}@${name}`,
      `@@${name}`,
      `mail:x@${name}`,
    ]) {
      expect(await mentionsOf(server, alice, room, text), text).toEqual([]);
    }
    for (const text of [
      `@${name},`,
      `thanks @${name}.`,
      `(@${name})`,
      `@${name}!`,
      `@${name}?`,
      `@${name}: look`,
      `"@${name}"`,
      `line one\n@${name}`,
      `hi\t@${name}`,
      `thanks @${name}...`,
      `[@${name}]`,
    ]) {
      expect(await mentionsOf(server, alice, room, text), text).toEqual([bob.username]);
    }
  });

  it("a non-member's name is not a mention, nor is a former member's", async ({
    server,
    users: { alice, bob, outsider },
    room,
  }) => {
    const before = answered(
      await messageApi(via, server.baseUrl).post(alice, room, `@${outsider.username} are you there?`),
    );
    expect(before.mentions).toEqual([]);
    await joinRoom(server.baseUrl, outsider.token, room);
    // Joining later does not make old text mention them (mentions are resolved when text is written).
    expect((await allMessages(server.baseUrl, alice.token, room)).find((m) => m.seq === before.seq)?.mentions).toEqual(
      [],
    );
    expect(await mentionsOf(server, alice, room, `@${outsider.username} welcome`)).toEqual([outsider.username]);
    body(await roomsApi(via, server.baseUrl).leave(bob, room));
    expect(await mentionsOf(server, alice, room, `@${bob.username} gone?`)).toEqual([]);
  });

  it('an edit re-computes mentions; a delete clears them', async ({ server, users: { alice, bob }, room }) => {
    const api = messageApi(via, server.baseUrl);
    const posted = answered(await api.post(alice, room, `@${bob.username} look`));
    expect(posted.mentions).toEqual([bob.username]);

    const retargeted = answered(await api.edit(alice, room, posted.seq, `@${alice.username.toUpperCase()} look`));
    expect(retargeted.mentions).toEqual([alice.username]);
    const both = answered(await api.edit(alice, room, posted.seq, `@${bob.username} and @${alice.username}`));
    expect(both.mentions).toEqual([bob.username, alice.username]);
    const none = answered(await api.edit(alice, room, posted.seq, 'nobody'));
    expect(none.mentions).toEqual([]);
    expect((await allMessages(server.baseUrl, alice.token, room)).at(-1)).toEqual(none);

    const again = answered(await api.edit(alice, room, posted.seq, `@${bob.username} again`));
    expect(again.mentions).toEqual([bob.username]);
    const deleted = answered(await api.remove(alice, room, posted.seq));
    expect(deleted.mentions).toEqual([]);
    expect((await allMessages(server.baseUrl, alice.token, room)).at(-1)).toEqual(deleted);
    expect(await counts(server, bob, room)).toMatchObject({ mentions: 0 });
  });

  it('names that extend one another are told apart, and ordered by first appearance', async ({
    server,
    users: { alice },
    room,
  }) => {
    const short = await newUser(server.baseUrl, uniqueName('ann'));
    const long = await newUser(server.baseUrl, `${short.username}x`);
    const dotted = await newUser(server.baseUrl, `${short.username}.jr`);
    for (const user of [short, long, dotted]) await joinRoom(server.baseUrl, user.token, room);
    expect(await mentionsOf(server, alice, room, `@${long.username}`)).toEqual([long.username]);
    expect(await mentionsOf(server, alice, room, `@${short.username}.`)).toEqual([short.username]);
    expect(await mentionsOf(server, alice, room, `@${dotted.username}.`)).toEqual([dotted.username]);
    expect
      .soft(await mentionsOf(server, alice, room, `@${long.username} and @${short.username}`))
      .toEqual([long.username, short.username]);
    expect
      .soft(await mentionsOf(server, alice, room, `@${dotted.username} and @${short.username}`))
      .toEqual([dotted.username, short.username]);
  });
});
