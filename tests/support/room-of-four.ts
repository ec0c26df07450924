import { expect, test } from 'vitest';
import { uniqueName } from './clients.ts';
import { joinRoom, newUser, type TestUser } from './fixtures.ts';
import { startTestServer, type TestServer } from './server.ts';

export interface RoomUsers {
  /** Creates every room of these tests (the room's creator: its moderator). */
  owner: TestUser;
  alice: TestUser;
  bob: TestUser;
  /** Signed in, member of no room. */
  outsider: TestUser;
}

export interface RoomOfFourFixtures {
  /** One server per file, RATE_LIMITS=off. */
  server: TestServer;
  /** Signed up once per file. */
  users: RoomUsers;
  /** A fresh room created by `owner`, with alice and bob as members. */
  room: string;
}

/**
 * The fixtures of the API tests that act in a room as its creator, two members and an outsider
 * (message changes, my rooms): one server and four users per file, one fresh room per test.
 * `bobName` lets a file sign bob up with capitals (mentions must answer the name as typed).
 */
export function roomOfFour(options: { roomPrefix: string; bobName?: string }) {
  return test.extend<RoomOfFourFixtures>({
    server: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
      async ({}, use) => {
        const server = await startTestServer({ RATE_LIMITS: 'off' });
        await use(server);
        await server.close();
      },
      { scope: 'file' },
    ],
    users: [
      async ({ server }, use) => {
        const names = ['owner', 'alice', options.bobName ?? 'bob', 'outsider'];
        const [owner, alice, bob, outsider] = await Promise.all(
          names.map((name) => newUser(server.baseUrl, uniqueName(name))),
        );
        if (!owner || !alice || !bob || !outsider) throw new Error('sign-up failed');
        await use({ owner, alice, bob, outsider });
      },
      { scope: 'file' },
    ],
    room: async ({ server, users }, use) => {
      const room = uniqueName(options.roomPrefix);
      expect((await joinRoom(server.baseUrl, users.owner.token, room)).created).toBe(true);
      await joinRoom(server.baseUrl, users.alice.token, room);
      await joinRoom(server.baseUrl, users.bob.token, room);
      await use(room);
    },
  });
}
