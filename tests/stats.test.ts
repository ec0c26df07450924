import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, trpcClient } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  joinRoom,
  type Member,
  newUser,
  ok,
  postMany,
  type RoomSummary,
  type TestUser,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type RoomCount = { room: string; messageCount: number };
type UserCount = { username: string; messageCount: number };
type UserStats = { username: string; messageCount: number; rooms: RoomCount[] };

const byRoom = (rooms: RoomCount[]) => Object.fromEntries(rooms.map((entry) => [entry.room, entry.messageCount]));
const byUser = (users: UserCount[]) => Object.fromEntries(users.map((entry) => [entry.username, entry.messageCount]));

describe('stats', () => {
  let server: TestServer;
  let baseUrl: string;
  let alice: TestUser;
  let bob: TestUser;
  let idle: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    alice = await newUser(baseUrl);
    bob = await newUser(baseUrl);
    idle = await newUser(baseUrl);
    // alice: 3 in x, 2 in y (one of them retried with the same clientId); bob: 1 in x; idle: member of x, silent.
    for (const user of [alice, bob, idle]) await joinRoom(baseUrl, user.token, 'x');
    await joinRoom(baseUrl, alice.token, 'y');
    await postMany(baseUrl, alice.token, 'x', 2);
    await bob.trpc.messages.post.mutate({ room: 'x', text: 'bob in x' });
    await alice.trpc.messages.post.mutate({ room: 'x', text: 'third in x' });
    await alice.trpc.messages.post.mutate({ room: 'y', text: 'first in y', clientId: 'y-1' });
    await alice.trpc.messages.post.mutate({ room: 'y', text: 'first in y', clientId: 'y-1' });
    ok(
      await rest(baseUrl, 'POST', '/rooms/y/messages', {
        token: alice.token,
        body: { text: 'second in y', clientId: 'y-2' },
      }),
    );
    ok(
      await rest(baseUrl, 'POST', '/rooms/y/messages', {
        token: alice.token,
        body: { text: 'second in y', clientId: 'y-2' },
      }),
    );
  });
  afterAll(() => server.close());

  it('stats.users counts messages across rooms (both transports)', async () => {
    const viaRest = ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users', { token: bob.token }));
    expect(byUser(viaRest.users)).toEqual({ [alice.username]: 5, [bob.username]: 1, [idle.username]: 0 });
    expect(await bob.trpc.stats.users.query()).toEqual(viaRest);
    expect(await bob.trpc.stats.users.query({})).toEqual(viaRest);
  });

  it('stats.users?room= counts messages within one room (both transports)', async () => {
    const x = ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users?room=x', { token: bob.token }));
    expect(byUser(x.users)).toEqual({ [alice.username]: 3, [bob.username]: 1, [idle.username]: 0 });
    expect(await bob.trpc.stats.users.query({ room: 'x' })).toEqual(x);

    const y = await bob.trpc.stats.users.query({ room: 'y' });
    expect(byUser(y.users)).toEqual({ [alice.username]: 2 });
    expect(ok(await rest(baseUrl, 'GET', '/stats/users?room=y', { token: bob.token }))).toEqual(y);
  });

  it('stats.users?room= normalizes the room name', async () => {
    const upper = ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users?room=X', { token: bob.token }));
    const padded = ok(
      await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users?room=%20X%20', { token: bob.token }),
    );
    expect(byUser(upper.users)[alice.username]).toBe(3);
    expect(padded).toEqual(upper);
    expect(await bob.trpc.stats.users.query({ room: ' X ' })).toEqual(upper);
  });

  it('stats.rooms counts messages per room (both transports)', async () => {
    const viaRest = ok(await rest<{ rooms: RoomCount[] }>(baseUrl, 'GET', '/stats/rooms', { token: bob.token }));
    expect(byRoom(viaRest.rooms)).toEqual({ x: 4, y: 2 });
    expect(await bob.trpc.stats.rooms.query()).toEqual(viaRest);
  });

  it('stats.user gives one user overall and per room (both transports)', async () => {
    const viaRest = ok(await rest<UserStats>(baseUrl, 'GET', `/stats/users/${alice.username}`, { token: bob.token }));
    expect(viaRest.username).toBe(alice.username);
    expect(viaRest.messageCount).toBe(5);
    expect(byRoom(viaRest.rooms)).toEqual({ x: 3, y: 2 });
    expect(await bob.trpc.stats.user.query({ username: alice.username })).toEqual(viaRest);

    const silent = await alice.trpc.stats.user.query({ username: idle.username });
    expect(silent).toEqual({
      username: idle.username,
      messageCount: 0,
      rooms: [{ room: 'x', messageCount: 0 }],
      hasMore: false,
      nextCursor: null,
    });
  });

  it('rooms.list and rooms.members agree with stats', async () => {
    const rooms = ok(await rest<{ rooms: RoomSummary[] }>(baseUrl, 'GET', '/rooms', { token: bob.token }));
    const summaries = Object.fromEntries(rooms.rooms.map((room) => [room.name, room]));
    expect(summaries.x).toMatchObject({ messageCount: 4, memberCount: 3, lastSeq: 4 });
    expect(summaries.y).toMatchObject({ messageCount: 2, memberCount: 1, lastSeq: 2 });

    const members = await bob.trpc.rooms.members.query({ room: 'x' });
    expect(Object.fromEntries(members.users.map((user: Member) => [user.username, user.messageCount]))).toEqual({
      [alice.username]: 3,
      [bob.username]: 1,
      [idle.username]: 0,
    });
  });

  it('every count equals the number of messages actually listed', async () => {
    const x = await allMessages(baseUrl, bob.token, 'x');
    const y = await allMessages(baseUrl, bob.token, 'y');
    const authoredBy = (messages: { author: string }[], username: string) =>
      messages.filter((message) => message.author === username).length;

    const statsRooms = byRoom(
      ok(await rest<{ rooms: RoomCount[] }>(baseUrl, 'GET', '/stats/rooms', { token: bob.token })).rooms,
    );
    expect(statsRooms).toEqual({ x: x.length, y: y.length });

    const statsUsers = byUser(
      ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users', { token: bob.token })).users,
    );
    for (const user of [alice, bob, idle]) {
      expect(statsUsers[user.username]).toBe(authoredBy([...x, ...y], user.username));
    }
    const inX = byUser(
      ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users?room=x', { token: bob.token })).users,
    );
    for (const user of [alice, bob, idle]) expect(inX[user.username]).toBe(authoredBy(x, user.username));

    // Seqs are dense: no message was lost or duplicated by the retries.
    expect(x.map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    expect(y.map((message) => message.seq)).toEqual([1, 2]);
  });

  it('404 for an unknown user (stats.user) or an unknown room (stats.users?room=), on both transports', async () => {
    expectRestError(await rest(baseUrl, 'GET', '/stats/users/nobody_here', { token: bob.token }), 404);
    await expectTrpcError(bob.trpc.stats.user.query({ username: 'nobody_here' }), 404);
    expectRestError(await rest(baseUrl, 'GET', '/stats/users?room=nowhere', { token: bob.token }), 404);
    await expectTrpcError(bob.trpc.stats.users.query({ room: 'nowhere' }), 404);
  });

  it('400 naming the field for an invalid username or room name', async () => {
    expectRestError(await rest(baseUrl, 'GET', '/stats/users/ab', { token: bob.token }), 400, 'username');
    await expectTrpcError(bob.trpc.stats.user.query({ username: 'ab' }), 400, 'username');
    const badRoom = await rest(baseUrl, 'GET', `/stats/users?room=${encodeURIComponent('no spaces!')}`, {
      token: bob.token,
    });
    expectRestError(badRoom, 400, 'room');
    await expectTrpcError(bob.trpc.stats.users.query({ room: 'no spaces!' }), 400, 'room');
  });

  it('401 without a session', async () => {
    const anonymous = trpcClient(baseUrl);
    for (const path of ['/stats/rooms', '/stats/users', '/stats/users?room=x', `/stats/users/${alice.username}`]) {
      expectRestError(await rest(baseUrl, 'GET', path), 401);
    }
    await expectTrpcError(anonymous.stats.rooms.query(), 401);
    await expectTrpcError(anonymous.stats.users.query(), 401);
    await expectTrpcError(anonymous.stats.user.query({ username: alice.username }), 401);
  });
});
