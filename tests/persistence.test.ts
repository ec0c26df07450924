import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, trpcClient } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  joinRoom,
  type Member,
  type MessageDto,
  newUser,
  ok,
  postMany,
  type RoomSummary,
  type TestUser,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type RoomCount = { room: string; messageCount: number };
type UserCount = { username: string; messageCount: number };

/** Everything a user can observe about the state, read over REST. */
async function snapshot(baseUrl: string, token: string) {
  return {
    rooms: ok(await rest<{ rooms: RoomSummary[] }>(baseUrl, 'GET', '/rooms', { token })).rooms,
    statsRooms: ok(await rest<{ rooms: RoomCount[] }>(baseUrl, 'GET', '/stats/rooms', { token })).rooms,
    statsUsers: ok(await rest<{ users: UserCount[] }>(baseUrl, 'GET', '/stats/users', { token })).users,
    history: await allMessages(baseUrl, token, 'durable'),
    other: await allMessages(baseUrl, token, 'durable-2'),
    members: ok(await rest<{ users: Member[] }>(baseUrl, 'GET', '/rooms/durable/users', { token })).users.map(
      ({ online: _, ...member }) => member,
    ),
  };
}

describe('persistence across a restart on the same database file', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let signedOut: TestUser;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let lastBefore: MessageDto;

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    alice = await newUser(server.baseUrl, 'Persist_Alice');
    bob = await newUser(server.baseUrl);
    signedOut = await newUser(server.baseUrl);
    await joinRoom(server.baseUrl, alice.token, 'durable');
    await joinRoom(server.baseUrl, bob.token, 'durable');
    await joinRoom(server.baseUrl, alice.token, 'durable-2');
    await postMany(server.baseUrl, alice.token, 'durable', 7);
    await bob.trpc.messages.post.mutate({ room: 'durable', text: 'from bob', clientId: 'bob-1' });
    await postMany(server.baseUrl, alice.token, 'durable-2', 2);
    ok(await rest(server.baseUrl, 'POST', '/auth/sign-out', { token: signedOut.token, body: {} }));

    before = await snapshot(server.baseUrl, alice.token);
    const last = before.history.at(-1);
    if (!last) throw new Error('no messages before the restart');
    lastBefore = last;

    server = await server.restart();
  });
  afterAll(() => server.close());

  it('keeps users, sessions and display case: the old tokens still work on both transports', async () => {
    const me = ok(
      await rest<{ user: { username: string } }>(server.baseUrl, 'GET', '/auth/me', { token: alice.token }),
    );
    expect(me.user.username).toBe('Persist_Alice');
    expect((await trpcClient(server.baseUrl, bob.token).auth.me.query()).user.username).toBe(bob.username);
    // Passwords too: a fresh sign-in with any letter case works.
    const signIn = ok(
      await rest<{ user: { username: string } }>(server.baseUrl, 'POST', '/auth/sign-in', {
        body: { username: 'persist_alice', password: alice.password },
      }),
    );
    expect(signIn.user.username).toBe('Persist_Alice');
    // Uniqueness survives: the name is still taken.
    expectRestError(
      await rest(server.baseUrl, 'POST', '/auth/sign-up', {
        body: { username: 'PERSIST_ALICE', password: 'whatever123' },
      }),
      409,
    );
  });

  it('keeps revoked sessions revoked', async () => {
    expectRestError(await rest(server.baseUrl, 'GET', '/auth/me', { token: signedOut.token }), 401);
  });

  it('keeps rooms, memberships, messages and every count exactly', async () => {
    const after = await snapshot(server.baseUrl, alice.token);
    expect(after).toEqual(before);
    expect(after.history.map((message) => message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(after.rooms.find((room) => room.name === 'durable')).toMatchObject({
      memberCount: 2,
      messageCount: 8,
      lastSeq: 8,
    });
  });

  it('keeps memberships: members can post without joining again, and seq continues at lastSeq + 1', async () => {
    const next = ok(
      await rest<{ message: MessageDto }>(server.baseUrl, 'POST', '/rooms/durable/messages', {
        token: alice.token,
        body: { text: 'after the restart' },
      }),
    );
    expect(next.message.seq).toBe(lastBefore.seq + 1);
    expect(next.message.id).toBeGreaterThan(lastBefore.id);
    const viaTrpc = await trpcClient(server.baseUrl, bob.token).messages.post.mutate({
      room: 'durable',
      text: 'bob again',
    });
    expect(viaTrpc.message.seq).toBe(lastBefore.seq + 2);

    const stats = ok(await rest<{ rooms: RoomCount[] }>(server.baseUrl, 'GET', '/stats/rooms', { token: bob.token }));
    expect(stats.rooms.find((entry) => entry.room === 'durable')?.messageCount).toBe(10);
  });

  it('keeps clientId idempotency: a retry after the restart returns the original message', async () => {
    const original = before.history.find((message) => message.clientId === 'bob-1');
    const retry = await trpcClient(server.baseUrl, bob.token).messages.post.mutate({
      room: 'durable',
      text: 'from bob',
      clientId: 'bob-1',
    });
    expect(retry.message).toEqual(original);
  });
});
