import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, trpcClient } from './support/clients.ts';
import {
  expectRestError,
  expectTrpcError,
  isoDate,
  joinRoom,
  type Member,
  newUser,
  ok,
  postMany,
  type RoomSummary,
  type TestUser,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type Joined = { room: RoomSummary; created: boolean };

describe('rooms', () => {
  let server: TestServer;
  let baseUrl: string;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    alice = await newUser(baseUrl);
    bob = await newUser(baseUrl);
  });
  afterAll(() => server.close());

  describe('join', () => {
    it('REST: creates the room on first join, is idempotent, and a second user is counted once', async () => {
      const first = ok(await rest<Joined>(baseUrl, 'POST', '/rooms/rest-join/join', { token: alice.token, body: {} }));
      expect(first.created).toBe(true);
      expect(first.room).toMatchObject({ name: 'rest-join', memberCount: 1, messageCount: 0, lastSeq: 0 });
      expect(first.room.lastMessageAt).toBeNull();
      expect(isoDate(first.room.createdAt)).toBe(true);

      const again = ok(await rest<Joined>(baseUrl, 'POST', '/rooms/rest-join/join', { token: alice.token, body: {} }));
      expect(again.created).toBe(false);
      expect(again.room).toEqual(first.room);

      const other = ok(await rest<Joined>(baseUrl, 'POST', '/rooms/rest-join/join', { token: bob.token, body: {} }));
      expect(other.created).toBe(false);
      expect(other.room.memberCount).toBe(2);
    });

    it('tRPC: creates the room on first join, is idempotent, and a second user is counted once', async () => {
      const first = await alice.trpc.rooms.join.mutate({ room: 'trpc-join' });
      expect(first.created).toBe(true);
      expect(first.room).toMatchObject({ name: 'trpc-join', memberCount: 1, messageCount: 0, lastSeq: 0 });

      const again = await alice.trpc.rooms.join.mutate({ room: 'trpc-join' });
      expect(again).toEqual({ room: first.room, created: false });

      const other = await bob.trpc.rooms.join.mutate({ room: 'trpc-join' });
      expect(other.created).toBe(false);
      expect(other.room.memberCount).toBe(2);
    });

    it('tRPC: normalizes " General " to "general"', async () => {
      const joined = await alice.trpc.rooms.join.mutate({ room: ' General ' });
      expect(joined.room.name).toBe('general');
      const members = await alice.trpc.rooms.members.query({ room: 'GENERAL' });
      expect(members.users.map((user) => user.username)).toContain(alice.username);
    });

    it('REST: normalizes an upper-case room name in the path', async () => {
      const joined = ok(await rest<Joined>(baseUrl, 'POST', '/rooms/UpperCase/join', { token: alice.token, body: {} }));
      expect(joined.room.name).toBe('uppercase');
    });

    it('REST: normalizes " General " (percent-encoded in the path) to "general"', async () => {
      const joined = ok(
        await rest<Joined>(baseUrl, 'POST', '/rooms/%20General%20/join', { token: bob.token, body: {} }),
      );
      expect(joined.room.name).toBe('general');
      const members = ok(
        await rest<{ users: Member[] }>(baseUrl, 'GET', '/rooms/%20General%20/users', { token: bob.token }),
      );
      expect(members.users.map((user) => user.username)).toContain(bob.username);
    });

    it.each(['no spaces!', 'a'.repeat(65), 'dot.ted', 'ümlaut'])(
      '400 naming "room" for the room name %j on both transports',
      async (room) => {
        const response = await rest(baseUrl, 'POST', `/rooms/${encodeURIComponent(room)}/join`, {
          token: alice.token,
          body: {},
        });
        expectRestError(response, 400, 'room');
        await expectTrpcError(alice.trpc.rooms.join.mutate({ room }), 400, 'room');
      },
    );

    it('400 for a blank room name over tRPC', async () => {
      await expectTrpcError(alice.trpc.rooms.join.mutate({ room: '   ' }), 400, 'room');
    });

    it('accepts a 64-character room name of every allowed kind of character', async () => {
      const name = 'a-b_0'.padEnd(64, 'z');
      const joined = ok(await rest<Joined>(baseUrl, 'POST', `/rooms/${name}/join`, { token: alice.token, body: {} }));
      expect(joined.room.name).toBe(name);
    });

    it('401 without a session', async () => {
      expectRestError(await rest(baseUrl, 'POST', '/rooms/anything/join', { body: {} }), 401);
      await expectTrpcError(trpcClient(baseUrl).rooms.join.mutate({ room: 'anything' }), 401);
    });
  });

  describe('list', () => {
    it('lists every room with correct counts, most recently active first, the same on both transports', async () => {
      const carol = await newUser(baseUrl);
      await joinRoom(baseUrl, carol.token, 'list-old');
      await joinRoom(baseUrl, carol.token, 'list-new');
      await joinRoom(baseUrl, carol.token, 'list-empty');
      await joinRoom(baseUrl, alice.token, 'list-old');
      await postMany(baseUrl, carol.token, 'list-old', 2);
      await postMany(baseUrl, alice.token, 'list-old', 1);
      await postMany(baseUrl, carol.token, 'list-new', 1);

      const viaRest = ok(await rest<{ rooms: RoomSummary[] }>(baseUrl, 'GET', '/rooms', { token: carol.token }));
      const viaTrpc = await carol.trpc.rooms.list.query();
      expect(viaTrpc).toEqual(viaRest);

      const byName = new Map(viaRest.rooms.map((room) => [room.name, room]));
      expect(byName.get('list-old')).toMatchObject({ memberCount: 2, messageCount: 3, lastSeq: 3 });
      expect(byName.get('list-new')).toMatchObject({ memberCount: 1, messageCount: 1, lastSeq: 1 });
      expect(byName.get('list-empty')).toMatchObject({
        memberCount: 1,
        messageCount: 0,
        lastSeq: 0,
        lastMessageAt: null,
      });
      for (const room of viaRest.rooms) {
        expect(isoDate(room.createdAt)).toBe(true);
        if (room.lastMessageAt !== null) expect(isoDate(room.lastMessageAt)).toBe(true);
      }

      // Most recently active first: list-new had the last message; rooms without messages come after all others.
      const names = viaRest.rooms.map((room) => room.name);
      expect(names[0]).toBe('list-new');
      expect(names.indexOf('list-new')).toBeLessThan(names.indexOf('list-old'));
      const firstSilent = viaRest.rooms.findIndex((room) => room.lastMessageAt === null);
      const lastActive = viaRest.rooms.map((room) => room.lastMessageAt !== null).lastIndexOf(true);
      expect(lastActive).toBeLessThan(firstSilent);
      const activity = viaRest.rooms.flatMap((room) => (room.lastMessageAt ? [Date.parse(room.lastMessageAt)] : []));
      expect(activity).toEqual([...activity].sort((a, b) => b - a));
    });

    it('401 without a session', async () => {
      expectRestError(await rest(baseUrl, 'GET', '/rooms'), 401);
      await expectTrpcError(trpcClient(baseUrl).rooms.list.query(), 401);
    });
  });

  describe('members', () => {
    it('lists members in join order with their per-room message counts, the same on both transports', async () => {
      const dave = await newUser(baseUrl);
      const erin = await newUser(baseUrl);
      await joinRoom(baseUrl, dave.token, 'members-room');
      await joinRoom(baseUrl, erin.token, 'members-room');
      await postMany(baseUrl, erin.token, 'members-room', 2);
      // Messages elsewhere do not count here.
      await joinRoom(baseUrl, erin.token, 'members-other');
      await postMany(baseUrl, erin.token, 'members-other', 3);

      const viaRest = ok(
        await rest<{ users: Member[] }>(baseUrl, 'GET', '/rooms/members-room/users', { token: dave.token }),
      );
      const viaTrpc = await dave.trpc.rooms.members.query({ room: 'members-room' });
      expect(viaTrpc.users.map(({ online: _, ...rest }) => rest)).toEqual(
        viaRest.users.map(({ online: _, ...rest }) => rest),
      );
      expect(viaRest.users.map(({ username, messageCount }) => ({ username, messageCount }))).toEqual([
        { username: dave.username, messageCount: 0 },
        { username: erin.username, messageCount: 2 },
      ]);
      for (const user of viaRest.users) {
        expect(isoDate(user.joinedAt)).toBe(true);
        expect(typeof user.online).toBe('boolean');
      }
    });

    it('is readable by a signed-in user who is not a member (rooms are public)', async () => {
      const outsider = await newUser(baseUrl);
      await joinRoom(baseUrl, alice.token, 'public-room');
      const members = ok(
        await rest<{ users: Member[] }>(baseUrl, 'GET', '/rooms/public-room/users', { token: outsider.token }),
      );
      expect(members.users.map((user) => user.username)).toEqual([alice.username]);
      expect((await outsider.trpc.rooms.members.query({ room: 'public-room' })).users).toHaveLength(1);
    });

    it('404 for an unknown room on both transports', async () => {
      expectRestError(await rest(baseUrl, 'GET', '/rooms/never-created/users', { token: alice.token }), 404);
      await expectTrpcError(alice.trpc.rooms.members.query({ room: 'never-created' }), 404);
    });

    it('400 naming "room" for an invalid room name', async () => {
      const response = await rest(baseUrl, 'GET', `/rooms/${encodeURIComponent('no spaces!')}/users`, {
        token: alice.token,
      });
      expectRestError(response, 400, 'room');
      await expectTrpcError(alice.trpc.rooms.members.query({ room: 'no spaces!' }), 400, 'room');
    });

    it('401 without a session', async () => {
      await joinRoom(baseUrl, alice.token, 'members-401');
      expectRestError(await rest(baseUrl, 'GET', '/rooms/members-401/users'), 401);
      await expectTrpcError(trpcClient(baseUrl).rooms.members.query({ room: 'members-401' }), 401);
    });
  });
});
