import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, wsTrpcClient } from './support/clients.ts';
import {
  expectRestError,
  expectTrpcError,
  joinRoom,
  type Member,
  newUser,
  ok,
  postMany,
  type RoomSummary,
  type TestUser,
  trpcFailure,
} from './support/fixtures.ts';
import { follow } from './support/live.ts';
import { type Page, walkPages } from './support/pages.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type RoomCount = { room: string; messageCount: number };
type UserCount = { username: string; messageCount: number };

/** Rooms named list-00 … list-24, members of `crowd`, and message counts with ties and gaps. */
const ROOMS = Array.from({ length: 25 }, (_, index) => `list-${String(index).padStart(2, '0')}`);
const CROWD = 12;

describe('paged lists (rooms, members, statistics)', () => {
  let server: TestServer;
  let baseUrl: string;
  let owner: TestUser;
  let crowd: TestUser[];
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    owner = await newUser(baseUrl);
    for (const room of ROOMS) await joinRoom(baseUrl, owner.token, room);
    // Activity in some rooms (so the list mixes active and silent rooms), with equal counts too.
    for (const [index, room] of ROOMS.slice(0, 9).entries())
      await postMany(baseUrl, owner.token, room, 1 + (index % 3));
    crowd = [];
    for (let index = 0; index < CROWD; index += 1) {
      const user = await newUser(baseUrl);
      await joinRoom(baseUrl, user.token, 'crowd');
      await postMany(baseUrl, user.token, 'crowd', index % 4);
      crowd.push(user);
    }
  });
  afterAll(() => server.close());

  // trpc-to-openapi flags the zod schemas of a procedure for coercion on its first REST call (decision
  // 006): this runs before any REST call to the paged lists, and again after.
  it('validates limit and cursor the same way over tRPC before and after REST calls', async () => {
    const outcomes = async () => {
      const results: string[] = [];
      for (const limit of [1, '2', 0, 201, true, '1.5', null]) {
        try {
          const page = await owner.trpc.rooms.list.query({ limit } as never);
          results.push(`limit=${JSON.stringify(limit)} -> ${page.rooms.length} ${page.hasMore}`);
        } catch (error) {
          const failure = await trpcFailure(Promise.reject(error));
          results.push(`limit=${JSON.stringify(limit)} -> ${failure.status} ${failure.message}`);
        }
      }
      return results;
    };
    const before = await outcomes();
    expect(before).toEqual([
      'limit=1 -> 1 true',
      'limit="2" -> 2 true',
      'limit=0 -> 400 limit: must be at least 1',
      'limit=201 -> 400 limit: must be at most 200',
      'limit=true -> 400 limit: must be a whole number',
      'limit="1.5" -> 400 limit: must be a whole number',
      'limit=null -> 400 limit: must be a whole number',
    ]);
    for (const path of ['/rooms?limit=2', '/rooms?limit=0', '/stats/rooms?limit=3', '/stats/users?limit=x']) {
      expect((await rest(baseUrl, 'GET', path, { token: owner.token })).status).toBeLessThan(500);
    }
    expect(await outcomes()).toEqual(before);
  });

  describe('rooms.list (GET /api/rooms)', () => {
    it('answers the first page by default with today’s fields plus hasMore and nextCursor', async () => {
      const viaRest = ok(await rest<Page<'rooms', RoomSummary>>(baseUrl, 'GET', '/rooms', { token: owner.token }));
      // 26 rooms fit the default page of 100: all of them, and nothing more to fetch.
      expect(viaRest.rooms.map((room) => room.name).sort()).toEqual([...ROOMS, 'crowd'].sort());
      expect(viaRest).toMatchObject({ hasMore: false, nextCursor: null });
      expect(await owner.trpc.rooms.list.query()).toEqual(viaRest);
      expect(await owner.trpc.rooms.list.query({})).toEqual(viaRest);
    });

    it('a walk over small pages returns every room exactly once, in the order of the one-page list (REST and tRPC)', async () => {
      const rooms = (await owner.trpc.rooms.list.query({ limit: 200 })).rooms;
      // Active rooms first, newest message first (ties by name), then silent rooms by name.
      const activity = (room: RoomSummary) => (room.lastMessageAt === null ? -1 : Date.parse(room.lastMessageAt));
      expect(rooms).toEqual(
        [...rooms].sort((a, b) => activity(b) - activity(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      );
      const whole = rooms.map((room) => room.name);
      expect(whole.slice(10)).toEqual(ROOMS.slice(9));
      for (const limit of [1, 4, 7, 26]) {
        const viaTrpc = await walkPages(limit, (cursor) => owner.trpc.rooms.list.query({ limit, cursor }), 'rooms');
        expect(viaTrpc.map((room) => room.name)).toEqual(whole);
        const viaRest = await walkPages(
          limit,
          async (cursor) =>
            ok(
              await rest<Page<'rooms', RoomSummary>>(
                baseUrl,
                'GET',
                `/rooms?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
                { token: owner.token },
              ),
            ),
          'rooms',
        );
        expect(viaRest).toEqual(viaTrpc);
      }
    });

    it('a room with a new message moves to the front of the first page', async () => {
      const silent = ROOMS[20] ?? '';
      await postMany(baseUrl, owner.token, silent, 1);
      const first = await owner.trpc.rooms.list.query({ limit: 3 });
      expect(first.rooms[0]?.name).toBe(silent);
      expect(first.hasMore).toBe(true);
    });
  });

  describe('stats.rooms, stats.users and stats.user', () => {
    it('stats.rooms walks every room once, most messages first, ties by name (REST and tRPC)', async () => {
      const whole = ok(
        await rest<Page<'rooms', RoomCount>>(baseUrl, 'GET', '/stats/rooms?limit=200', { token: owner.token }),
      ).rooms;
      expect(whole.map((row) => row.room).sort()).toEqual([...ROOMS, 'crowd'].sort());
      const order = [...whole].sort((a, b) => b.messageCount - a.messageCount || (a.room < b.room ? -1 : 1));
      expect(whole).toEqual(order);
      const viaTrpc = await walkPages(4, (cursor) => owner.trpc.stats.rooms.query({ limit: 4, cursor }), 'rooms');
      expect(viaTrpc).toEqual(whole);
      const viaRest = await walkPages(
        4,
        async (cursor) =>
          ok(
            await rest<Page<'rooms', RoomCount>>(
              baseUrl,
              'GET',
              `/stats/rooms?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
              {
                token: owner.token,
              },
            ),
          ),
        'rooms',
      );
      expect(viaRest).toEqual(whole);
    });

    it('stats.users walks every user once, overall and within one room (REST and tRPC)', async () => {
      const everyone = [owner, ...crowd].map((user) => user.username).sort();
      const whole = (await owner.trpc.stats.users.query({ limit: 200 })).users;
      expect(whole.map((row) => row.username).sort()).toEqual(everyone);
      expect(await walkPages(5, (cursor) => owner.trpc.stats.users.query({ limit: 5, cursor }), 'users')).toEqual(
        whole,
      );
      const inCrowd = (await owner.trpc.stats.users.query({ room: 'crowd' })).users;
      expect(inCrowd.map((row) => row.username).sort()).toEqual(crowd.map((user) => user.username).sort());
      const restWalk = await walkPages(
        3,
        async (cursor) =>
          ok(
            await rest<Page<'users', UserCount>>(
              baseUrl,
              'GET',
              `/stats/users?room=crowd&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
              { token: owner.token },
            ),
          ),
        'users',
      );
      expect(restWalk).toEqual(inCrowd);
    });

    it("stats.user pages one user's rooms, keeping the overall count on every page", async () => {
      const whole = await owner.trpc.stats.user.query({ username: owner.username });
      expect(whole.rooms.map((row) => row.room).sort()).toEqual([...ROOMS].sort());
      expect(whole).toMatchObject({ hasMore: false, nextCursor: null });
      const pages: (typeof whole)[] = [];
      const walked = await walkPages(
        6,
        async (cursor) => {
          const page = ok(
            await rest<typeof whole>(
              baseUrl,
              'GET',
              `/stats/users/${owner.username}?limit=6${cursor ? `&cursor=${cursor}` : ''}`,
              { token: owner.token },
            ),
          );
          pages.push(page);
          return page;
        },
        'rooms',
      );
      expect(walked).toEqual(whole.rooms);
      for (const page of pages) expect(page.messageCount).toBe(whole.messageCount);
    });
  });

  describe('rooms.members (GET /api/rooms/{room}/users)', () => {
    it('walks every member once in join order (REST and tRPC)', async () => {
      const joinOrder = crowd.map((user) => user.username);
      const first = ok(await rest<Page<'users', Member>>(baseUrl, 'GET', '/rooms/crowd/users', { token: owner.token }));
      expect(first.users.map((user) => user.username)).toEqual(joinOrder);
      expect(first).toMatchObject({ hasMore: false, nextCursor: null });
      const viaTrpc = await walkPages(
        5,
        (cursor) => owner.trpc.rooms.members.query({ room: 'crowd', limit: 5, cursor }),
        'users',
      );
      expect(viaTrpc.map((user) => user.username)).toEqual(joinOrder);
      const viaRest = await walkPages(
        5,
        async (cursor) =>
          ok(
            await rest<Page<'users', Member>>(
              baseUrl,
              'GET',
              `/rooms/crowd/users?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
              { token: owner.token },
            ),
          ),
        'users',
      );
      expect(viaRest).toEqual(viaTrpc);
    });

    it('puts online members first within a page; pages still follow join order', async () => {
      const third = crowd[2];
      if (!third) throw new Error('the crowd is too small');
      const live = wsTrpcClient(baseUrl, { token: third.token });
      const follower = follow(live, 'crowd');
      try {
        await follower.until((state) => (state.presence.at(-1) ?? []).includes(third.username));
        const whole = await owner.trpc.rooms.members.query({ room: 'crowd' });
        expect(whole.users[0]).toMatchObject({ username: third.username, online: true });
        const first = await owner.trpc.rooms.members.query({ room: 'crowd', limit: 2 });
        expect(first.users.map((user) => user.username)).toEqual(crowd.slice(0, 2).map((user) => user.username));
        const second = await owner.trpc.rooms.members.query({
          room: 'crowd',
          limit: 2,
          cursor: first.nextCursor ?? '',
        });
        expect(second.users.map((user) => [user.username, user.online])).toEqual([
          [third.username, true],
          [crowd[3]?.username, false],
        ]);
      } finally {
        follower.unsubscribe();
        await live.close();
      }
    });
  });

  describe('bad cursors and limits', () => {
    it('400 naming "cursor" for a cursor that is not one, or belongs to another list (REST and tRPC)', async () => {
      const otherList = (await owner.trpc.stats.rooms.query({ limit: 1 })).nextCursor;
      expect(otherList).toEqual(expect.any(String));
      for (const cursor of ['garbage', 'W10', otherList ?? '', 'x'.repeat(300), '!!']) {
        await expectTrpcError(owner.trpc.rooms.list.query({ cursor }), 400, 'cursor');
        expectRestError(
          await rest(baseUrl, 'GET', `/rooms?cursor=${encodeURIComponent(cursor)}`, { token: owner.token }),
          400,
          'cursor',
        );
      }
      await expectTrpcError(owner.trpc.rooms.members.query({ room: 'crowd', cursor: 'garbage' }), 400, 'cursor');
      expectRestError(await rest(baseUrl, 'GET', '/stats/users?cursor=garbage', { token: owner.token }), 400, 'cursor');
    });

    it('400 naming "limit" outside 1–200 on every list', async () => {
      for (const path of [
        '/rooms',
        '/stats/rooms',
        '/stats/users',
        '/rooms/crowd/users',
        `/stats/users/${owner.username}`,
      ]) {
        for (const limit of ['0', '201', 'abc']) {
          expectRestError(await rest(baseUrl, 'GET', `${path}?limit=${limit}`, { token: owner.token }), 400, 'limit');
        }
      }
      await expectTrpcError(owner.trpc.stats.rooms.query({ limit: 201 }), 400, 'limit');
      await expectTrpcError(owner.trpc.rooms.members.query({ room: 'crowd', limit: 0 }), 400, 'limit');
    });
  });
});
