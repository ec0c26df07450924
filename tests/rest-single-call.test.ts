import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from './support/clients.ts';
import type { TestUser } from './support/fixtures.ts';
import { memberAndOutsider } from './support/member-and-outsider.ts';
import type { TestServer } from './support/server.ts';

/**
 * `POST /api/rooms/{room}/messages` is answered without trpc-to-openapi's adapter
 * (server/http/rest-single-call.ts). A query string sends the same request to the adapter (which
 * ignores it for a POST), so each case is sent both ways and the answers must be the same.
 */
describe('the REST post served without trpc-to-openapi answers as trpc-to-openapi does', () => {
  let server: TestServer;
  let member: TestUser;
  let outsider: TestUser;
  let room: string;
  beforeAll(async () => {
    ({ server, member, outsider, room } = await memberAndOutsider('restfast'));
  });
  afterAll(() => server.close());

  interface Answer {
    status: number;
    type: string | null;
    body: unknown;
  }

  async function post(path: string, body: string | undefined, token?: string, type = 'application/json') {
    const headers: Record<string, string> = { 'content-type': type };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.baseUrl}/api${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), body: JSON.parse(text) } as Answer;
  }

  /** The fast answer, after checking it equals the adapter's. */
  async function bothWays(roomInPath: string, body: unknown, token?: string): Promise<Answer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const fast = await post(`/rooms/${roomInPath}/messages`, text, token);
    const viaAdapter = await post(`/rooms/${roomInPath}/messages?via=adapter`, text, token);
    expect(fast).toEqual(viaAdapter);
    return fast;
  }

  it('a post, retried with its clientId so both ways answer the same stored message', async () => {
    const answer = await bothWays(room, { text: 'hello rest', clientId: 'rest-1' }, member.token);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^application\/json/);
    expect(answer.body).toMatchObject({ message: { text: 'hello rest', author: member.username, room } });
  });

  it('the path names the room, whatever the body says', async () => {
    const answer = await bothWays(room, { text: 'path wins', clientId: 'rest-2', room: 'elsewhere' }, member.token);
    expect(answer.body).toMatchObject({ message: { room } });
  });

  it('invalid input: 400 "Input validation failed" with the issues', async () => {
    const answer = await bothWays(room, { text: '' }, member.token);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ message: 'Input validation failed', code: 'BAD_REQUEST' });
    expect(JSON.stringify(answer.body)).toContain('issues');
  });

  it('errors: no body, a bad room name, signed out, not a member, a reused clientId', async () => {
    expect((await bothWays(room, undefined, member.token)).status).toBe(400);
    expect((await bothWays('Not%20A%20Room', { text: 'x' }, member.token)).status).toBe(400);
    expect((await bothWays(room, { text: 'x' })).status).toBe(401);
    expect((await bothWays(room, { text: 'x' }, outsider.token)).status).toBe(403);
    expect((await bothWays(uniqueName('nowhere').toLowerCase(), { text: 'x' }, member.token)).status).toBe(404);
    await bothWays(room, { text: 'first', clientId: 'rest-3' }, member.token);
    expect((await bothWays(room, { text: 'other', clientId: 'rest-3' }, member.token)).status).toBe(409);
  });

  it('a body that is not JSON is left to the adapter', async () => {
    const answer = await post(`/rooms/${room}/messages`, 'text=hi', member.token, 'text/plain');
    expect(answer.status).toBe(415);
  });
});
