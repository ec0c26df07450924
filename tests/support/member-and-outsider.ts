import { uniqueName } from './clients.ts';
import { joinRoom, newUser, type TestUser } from './fixtures.ts';
import { startTestServer, type TestServer } from './server.ts';

export interface MemberAndOutsider {
  server: TestServer;
  /** A member of `room`. */
  member: TestUser;
  /** Signed in, not a member of `room`. */
  outsider: TestUser;
  room: string;
}

/** A server (rate limits off) with one room, a member of it and a user who is not. */
export async function memberAndOutsider(roomPrefix: string): Promise<MemberAndOutsider> {
  const server = await startTestServer({ RATE_LIMITS: 'off' });
  const member = await newUser(server.baseUrl);
  const outsider = await newUser(server.baseUrl);
  const room = uniqueName(roomPrefix).toLowerCase();
  await joinRoom(server.baseUrl, member.token, room);
  return { server, member, outsider, room };
}
