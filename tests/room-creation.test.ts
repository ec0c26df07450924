import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.ts';
import { expectRestError, expectTrpcError, joinRoom, newUser, ok, type TestUser } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/** Room creation burst per user with RATE_LIMITS=on (server/lib/rate-limiter.ts). */
const CREATE_BURST = 30;

const join = (baseUrl: string, user: TestUser, room: string) =>
  rest<{ created: boolean }>(baseUrl, 'POST', `/rooms/${room}/join`, { token: user.token, body: {} });

describe('room creation rate limit (RATE_LIMITS=on)', () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    server = await startTestServer();
    baseUrl = server.baseUrl;
  });
  afterAll(() => server.close());

  it('a burst of 30 new rooms passes, the 31st is refused with 429 and Retry-After on both transports', async () => {
    const maker = await newUser(baseUrl);
    for (let index = 0; index < CREATE_BURST; index += 1) {
      expect(ok(await join(baseUrl, maker, `burst-${index}`)).created).toBe(true);
    }
    const refused = await join(baseUrl, maker, 'burst-rest');
    expectRestError(refused, 429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const viaTrpc = await expectTrpcError(maker.trpc.rooms.join.mutate({ room: 'burst-trpc' }), 429);
    expect(viaTrpc.message).toMatch(/rooms too fast/);

    // Nothing was created by the refused calls.
    expectRestError(await rest(baseUrl, 'GET', '/rooms/burst-rest/users', { token: maker.token }), 404);
    expectRestError(await rest(baseUrl, 'GET', '/rooms/burst-trpc/users', { token: maker.token }), 404);
  });

  it('joining existing rooms is never limited, and other users keep their own budget', async () => {
    const maker = await newUser(baseUrl);
    const other = await newUser(baseUrl);
    for (let index = 0; index < CREATE_BURST; index += 1) await joinRoom(baseUrl, maker.token, `own-${index}`);
    expectRestError(await join(baseUrl, maker, 'own-extra'), 429);
    // Rejoining, and joining rooms someone else made, still works for the limited user.
    for (let index = 0; index < CREATE_BURST; index += 1) {
      expect(ok(await join(baseUrl, maker, `own-${index}`)).created).toBe(false);
    }
    await joinRoom(baseUrl, other.token, 'made-by-other');
    expect(ok(await join(baseUrl, maker, 'made-by-other')).created).toBe(false);
  });
});

describe('MAX_ROOMS: the server-wide room cap', () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    // RATE_LIMITS=off lifts the pace, never the cap.
    server = await startTestServer({ RATE_LIMITS: 'off', MAX_ROOMS: '3' });
    baseUrl = server.baseUrl;
  });
  afterAll(() => server.close());

  let existing: string[] = [];

  it('parallel creations stop exactly at the cap', async () => {
    const users = [await newUser(baseUrl), await newUser(baseUrl)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const room = `race-${index}`;
        const user = users[index % 2] as TestUser;
        if (index % 3 === 0) {
          return {
            room,
            status: await user.trpc.rooms.join.mutate({ room }).then(
              () => 200,
              () => 403,
            ),
          };
        }
        return { room, status: (await join(baseUrl, user, room)).status };
      }),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 403)).toHaveLength(17);
    existing = answers.filter((answer) => answer.status === 200).map((answer) => answer.room);
    const listed = (await users[0]?.trpc.rooms.list.query())?.rooms.map((room) => room.name);
    expect(listed?.sort()).toEqual([...existing].sort());
  });

  it('refuses a room beyond the cap with 403 on both transports; joining existing rooms still works', async () => {
    const bob = await newUser(baseUrl);
    const refused = expectRestError(await join(baseUrl, bob, 'four'), 403);
    expect(refused.message).toMatch(/maximum of 3 rooms/);
    await expectTrpcError(bob.trpc.rooms.join.mutate({ room: 'four' }), 403);

    for (const room of existing) expect(ok(await join(baseUrl, bob, room)).created).toBe(false);
    expect((await bob.trpc.rooms.join.mutate({ room: existing[0] ?? '' })).created).toBe(false);
    expect((await bob.trpc.rooms.members.query({ room: existing[0] ?? '' })).users).toHaveLength(2);
  });
});
