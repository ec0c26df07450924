import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.ts';
import type { TestUser } from './support/fixtures.ts';
import { memberAndOutsider } from './support/member-and-outsider.ts';
import type { TestServer } from './support/server.ts';

/**
 * messages.post, rooms.typing and rooms.markRead sent as one call skip tRPC's fetch adapter
 * (server/http/trpc-single-call.ts). Whatever comes back must be what the adapter itself sends: each
 * case is sent as a lone call and as a batch of one (the fast path), and inside a batch of two
 * (which only the adapter serves), and the answers are compared.
 */
describe('tRPC calls served without the fetch adapter answer as the adapter does', () => {
  let server: TestServer;
  let member: TestUser;
  let outsider: TestUser;
  let room: string;
  beforeAll(async () => {
    ({ server, member, outsider, room } = await memberAndOutsider('fast'));
  });
  afterAll(() => server.close());

  interface Answer {
    status: number;
    type: string | null;
    vary: string | null;
    body: unknown;
  }

  async function send(path: string, body: string | undefined, token: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.baseUrl}/api/trpc/${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      vary: response.headers.get('vary'),
      body: JSON.parse(text) as unknown,
    };
  }

  /** The same call three ways; the fast answers must equal the adapter's. */
  async function threeWays(path: string, input: unknown, token: string | undefined) {
    const lone = await send(path, input === undefined ? '' : JSON.stringify(input), token);
    const batchOfOne = await send(`${path}?batch=1`, JSON.stringify(input === undefined ? {} : { 0: input }), token);
    // A second, harmless call makes it a batch the fast path does not serve.
    const viaAdapter = await send(
      `${path},rooms.typing?batch=1`,
      JSON.stringify({ ...(input === undefined ? {} : { 0: input }), 1: { room } }),
      token,
    );
    expect(Array.isArray(batchOfOne.body) && Array.isArray(viaAdapter.body)).toBe(true);
    const adapterItem = (viaAdapter.body as unknown[])[0];
    expect(lone.body).toEqual(adapterItem);
    expect((batchOfOne.body as unknown[])[0]).toEqual(adapterItem);
    expect(batchOfOne.status).toBe(lone.status);
    for (const answer of [lone, batchOfOne]) {
      expect(answer.type).toMatch(/^application\/json/);
      expect(answer.vary).toBe('trpc-accept, accept');
    }
    // The adapter states each call's status inside an error; a success is 200.
    const stated = (adapterItem as { error?: { data?: { httpStatus?: number } } }).error?.data?.httpStatus ?? 200;
    expect(lone.status).toBe(stated);
    return lone;
  }

  it('a post (retried with its clientId, so every way answers the same stored message)', async () => {
    const lone = await threeWays('messages.post', { room, text: 'hello fast', clientId: 'fast-1' }, member.token);
    expect(lone.status).toBe(200);
    expect(lone.body).toMatchObject({ result: { data: { message: { text: 'hello fast', author: member.username } } } });
  });

  it('invalid input: 400 with the field named', async () => {
    const lone = await threeWays('messages.post', { room, text: '' }, member.token);
    expect(lone.status).toBe(400);
    expect(JSON.stringify(lone.body)).toContain('text');
  });

  it('no input at all: 400', async () => {
    expect((await threeWays('messages.post', undefined, member.token)).status).toBe(400);
  });

  it('signed out: 401', async () => {
    expect((await threeWays('messages.post', { room, text: 'hi' }, undefined)).status).toBe(401);
  });

  it('not a member: 403', async () => {
    expect((await threeWays('messages.post', { room, text: 'hi' }, outsider.token)).status).toBe(403);
  });

  it('a clientId reused for other text: 409', async () => {
    await threeWays('messages.post', { room, text: 'first', clientId: 'fast-2' }, member.token);
    expect((await threeWays('messages.post', { room, text: 'other', clientId: 'fast-2' }, member.token)).status).toBe(
      409,
    );
  });

  it('typing and read markers', async () => {
    expect((await threeWays('rooms.typing', { room }, member.token)).status).toBe(200);
    expect((await threeWays('rooms.markRead', { room, seq: 1 }, member.token)).status).toBe(200);
    expect((await threeWays('rooms.markRead', { room, seq: -1 }, member.token)).status).toBe(400);
  });

  it("a body that is not JSON gets tRPC's own 400, and REST posts are untouched", async () => {
    const broken = await send('messages.post', '{"room":', member.token);
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({
      error: { message: expect.stringContaining('JSON'), data: { code: 'BAD_REQUEST' } },
    });
    const posted = await rest(server.baseUrl, 'POST', `/rooms/${room}/messages`, {
      token: member.token,
      body: { text: 'over REST' },
    });
    expect(posted.status).toBe(200);
  });
});
