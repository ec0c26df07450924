import { createTRPCClient, httpBatchLink, httpLink, splitLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../server/routers/app-router.ts';
import { rawRequest, rest } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  joinRoom,
  type MessageDto,
  newUser,
  ok,
  type TestUser,
  trpcFailure,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/** tRPC's error envelope, as its client expects it, for errors raised outside a procedure. */
interface TrpcErrorBody {
  error: { message: string; code: number; data: { code: string; httpStatus: number } };
}

async function trpcErrorOf(response: Response, status: number): Promise<TrpcErrorBody['error']> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type'), text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as TrpcErrorBody;
  expect(body.error).toMatchObject({ message: expect.any(String), data: { httpStatus: status } });
  expect(typeof body.error.code).toBe('number');
  return body.error;
}

describe('input robustness', () => {
  let server: TestServer;
  let baseUrl: string;
  let user: TestUser;
  let auth: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    user = await newUser(baseUrl);
    auth = { authorization: `Bearer ${user.token}` };
    await joinRoom(baseUrl, user.token, 'robust');
  });
  afterAll(() => server.close());

  const batchUrl = (paths: string[], query = '') => `${baseUrl}/api/trpc/${paths.join(',')}?batch=1${query}`;

  describe('tRPC HTTP batches', () => {
    it('answers a batch of 10 calls and refuses 11 with a 400 in tRPC’s error shape, before running any', async () => {
      const ten = await fetch(batchUrl(Array(10).fill('rooms.list')), { headers: auth });
      expect(ten.status).toBe(200);
      expect(await ten.json()).toHaveLength(10);

      const eleven = await trpcErrorOf(await fetch(batchUrl(Array(11).fill('rooms.list')), { headers: auth }), 400);
      expect(eleven.message).toMatch(/at most 10 calls/);
      expect(eleven.data.code).toBe('BAD_REQUEST');

      const posts = Array(11).fill('messages.post');
      const input = Object.fromEntries(posts.map((_, index) => [index, { room: 'robust', text: `batched ${index}` }]));
      const refused = await fetch(batchUrl(posts), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      await trpcErrorOf(refused, 400);
      expect(await allMessages(baseUrl, user.token, 'robust')).toEqual([]);
    });

    it('a typed client with httpBatchLink needs maxItems: 10 for bigger bursts', async () => {
      const link = (maxItems?: number) =>
        createTRPCClient<AppRouter>({
          links: [httpBatchLink({ url: `${baseUrl}/api/trpc`, headers: auth, ...(maxItems ? { maxItems } : {}) })],
        });
      const burst = (client: ReturnType<typeof link>) =>
        Promise.all(Array.from({ length: 12 }, () => client.stats.rooms.query()));
      const failure = await trpcFailure(burst(link()));
      expect(failure.status).toBe(400);
      expect(await burst(link(10))).toHaveLength(12);
    });

    it('refuses auth.* calls batched with others, over raw HTTP and httpBatchLink; a lone one passes', async () => {
      const credentials = { username: user.username, password: 'wrong password 1' };
      const twoSignIns = await fetch(batchUrl(['auth.signIn', 'auth.signIn']), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ 0: credentials, 1: credentials }),
      });
      expect((await trpcErrorOf(twoSignIns, 400)).message).toMatch(/auth\.signIn cannot be batched/);
      const mixed = await fetch(batchUrl(['rooms.list', 'auth.me']), { headers: auth });
      expect((await trpcErrorOf(mixed, 400)).message).toMatch(/auth\.me cannot be batched/);

      const batching = createTRPCClient<AppRouter>({
        links: [httpBatchLink({ url: `${baseUrl}/api/trpc`, headers: auth })],
      });
      const together = await trpcFailure(Promise.all([batching.auth.me.query(), batching.rooms.list.query()]));
      expect(together.status).toBe(400);
      // Alone, even in a batch of one (what httpBatchLink sends for a single call), it works.
      expect((await batching.auth.me.query()).user.username).toBe(user.username);
      // The way the web app does it: auth.* through httpLink, everything else batched.
      const split = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.path.startsWith('auth.'),
            true: httpLink({ url: `${baseUrl}/api/trpc`, headers: auth }),
            false: httpBatchLink({ url: `${baseUrl}/api/trpc`, headers: auth, maxItems: 10 }),
          }),
        ],
      });
      const [me, rooms] = await Promise.all([split.auth.me.query(), split.rooms.list.query()]);
      expect(me.user.username).toBe(user.username);
      expect(rooms.rooms.map((room) => room.name)).toContain('robust');
    });

    it('answers paths over 1000 characters in tRPC’s error shape, never the REST 404', async () => {
      const hundred = await fetch(batchUrl(Array(100).fill('rooms.list')), { headers: auth });
      expect((await trpcErrorOf(hundred, 400)).message).toMatch(/at most 10 calls; this one holds 100/);
      const long = await fetch(`${baseUrl}/api/trpc/${'rooms.list'.padEnd(1500, 'x')}`, { headers: auth });
      expect((await trpcErrorOf(long, 404)).message).toMatch(/^No procedure found on path "rooms\.listx+…"$/);
    });
  });

  describe('errors tRPC raises before a procedure runs are JSON', () => {
    it('an unsupported content type: 415 as application/json, the message with its closing quote', async () => {
      const response = await fetch(`${baseUrl}/api/trpc/rooms.join`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: JSON.stringify({ room: 'robust' }),
      });
      const error = await trpcErrorOf(response, 415);
      expect(error.message).toBe('Unsupported content-type "text/plain"; send application/json');
    });

    it('a batch mixing queries and mutations: 400 as application/json', async () => {
      const response = await fetch(batchUrl(['rooms.list', 'rooms.join']), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ 1: { room: 'robust' } }),
      });
      expect((await trpcErrorOf(response, 400)).message).toMatch(/Cannot mix procedure types/);
    });

    it('a POST with no content type at all: 415 as application/json, with or without a body', async () => {
      const bodyless = await fetch(`${baseUrl}/api/trpc/rooms.join`, { method: 'POST', headers: auth });
      expect((await trpcErrorOf(bodyless, 415)).message).toBe('Missing content-type header');
      // With a body, Fastify refuses it before tRPC sees it; same status, same shape.
      const withBody = await fetch(`${baseUrl}/api/trpc/rooms.join`, {
        method: 'POST',
        headers: auth,
        body: new TextEncoder().encode(JSON.stringify({ room: 'robust' })),
      });
      await trpcErrorOf(withBody, 415);
    });
  });

  describe('message text must be text', () => {
    const refused: [string, string][] = [
      ['a lone high surrogate', 'hi \ud800'],
      ['a lone low surrogate', '\udc00 there'],
      ['a reversed pair', '\ude00\ud83d'],
      ['NUL', 'nul\u0000byte'],
      ['an ANSI escape', '\u001b[31mred'],
      ['DEL', 'del\u007f'],
      ['a C1 control (CSI)', 'csi\u009b31m'],
      ['form feed', 'page\fbreak'],
      ['zero-width characters only', '\u200b\u200c\u200d'],
      ['a byte-order mark and word joiner only', '\ufeff\u2060'],
      ['a Hangul filler only', '\u3164'],
      ['a blank Braille pattern only', '\u2800\u2800'],
      ['variation selectors only', '\ufe0f\ufe0e'],
      ['no-break and ideographic spaces only', '\u00a0\u3000\u2007'],
      ['line breaks only, of every kind', '\r\n\r\n\u2028'],
    ];

    it.each(refused)('refuses %s with 400 naming "text" on both transports', async (_label, text) => {
      const viaRest = await rest(baseUrl, 'POST', '/rooms/robust/messages', { token: user.token, body: { text } });
      expectRestError(viaRest, 400, 'text');
      await expectTrpcError(user.trpc.messages.post.mutate({ room: 'robust', text }), 400, 'text');
    });

    it('says what is wrong', async () => {
      const messageOf = async (text: string) =>
        (await trpcFailure(user.trpc.messages.post.mutate({ room: 'robust', text }))).message;
      expect(await messageOf('hi \ud800')).toBe(
        'text: must be well-formed Unicode text (it has an unpaired surrogate)',
      );
      expect(await messageOf('a\u0000b')).toBe(
        'text: must not contain control characters other than line breaks and tabs',
      );
      expect(await messageOf('\u200b')).toBe('text: must not be blank');
    });

    it('accepts text with tabs, line breaks, emoji, combining marks and invisible characters between visible ones', async () => {
      const texts = [
        'tab\there',
        'two\nlines',
        'emoji 😀👍🏽',
        'e\u0301te\u0301',
        'שלום עולם',
        'zero\u200bwidth',
        '👨‍👩‍👧',
      ];
      for (const text of texts) {
        const posted = await user.trpc.messages.post.mutate({ room: 'robust', text });
        expect(posted.message.text).toBe(text);
      }
      const stored = (await allMessages(baseUrl, user.token, 'robust')).map((message) => message.text);
      expect(stored.slice(-texts.length)).toEqual(texts);
    });

    it('stores "\\r\\n" and "\\r" as "\\n", and a retry with the same clientId in either form is not a conflict', async () => {
      const raw = 'one\r\ntwo\rthree\r\n';
      const first = ok(
        await rest<{ message: MessageDto }>(baseUrl, 'POST', '/rooms/robust/messages', {
          token: user.token,
          body: { text: raw, clientId: 'crlf-1' },
        }),
      ).message;
      expect(first.text).toBe('one\ntwo\nthree');
      const again = ok(
        await rest<{ message: MessageDto }>(baseUrl, 'POST', '/rooms/robust/messages', {
          token: user.token,
          body: { text: raw, clientId: 'crlf-1' },
        }),
      ).message;
      expect(again).toEqual(first);
      expect((await user.trpc.messages.post.mutate({ room: 'robust', text: raw, clientId: 'crlf-1' })).message).toEqual(
        first,
      );
      expect(
        (await user.trpc.messages.post.mutate({ room: 'robust', text: 'one\ntwo\nthree', clientId: 'crlf-1' })).message,
      ).toEqual(first);
      const stored = await allMessages(baseUrl, user.token, 'robust');
      expect(stored.filter((message) => message.clientId === 'crlf-1')).toEqual([first]);
    });

    it('a lone surrogate with a clientId is refused every time (400), never stored, so a retry cannot 409', async () => {
      const before = (await allMessages(baseUrl, user.token, 'robust')).length;
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const response = await rest(baseUrl, 'POST', '/rooms/robust/messages', {
          token: user.token,
          body: { text: 'hi \ud800', clientId: 'lone-1' },
        });
        expectRestError(response, 400, 'text');
        await expectTrpcError(
          user.trpc.messages.post.mutate({ room: 'robust', text: 'hi \ud800', clientId: 'lone-1' }),
          400,
          'text',
        );
      }
      expect(await allMessages(baseUrl, user.token, 'robust')).toHaveLength(before);
      // The clientId is still free for a well-formed message.
      expect(
        (await user.trpc.messages.post.mutate({ room: 'robust', text: 'hi', clientId: 'lone-1' })).message.text,
      ).toBe('hi');
    });
  });

  describe('a raw non-ASCII byte in the path', () => {
    const request = (method: string, path: string) =>
      Buffer.concat([
        Buffer.from(`${method} ${path}`),
        Buffer.from([0xff, 0xc3, 0xa9]),
        Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      ]);

    it.each(['HEAD', 'GET'])(
      '%s gets our JSON 400 body (REST shape under /api, tRPC shape under /api/trpc)',
      async (method) => {
        const restAnswer = await rawRequest(baseUrl, request(method, '/api/rooms/'));
        expect(restAnswer.status).toBe(400);
        expect(restAnswer.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(restAnswer.body)).toEqual({
          message: expect.stringMatching(/percent-encode/),
          code: 'BAD_REQUEST',
          data: { code: 'BAD_REQUEST', httpStatus: 400 },
        });
        const trpcAnswer = await rawRequest(baseUrl, request(method, '/api/trpc/rooms.list'));
        expect(trpcAnswer.status).toBe(400);
        expect(JSON.parse(trpcAnswer.body)).toMatchObject({
          error: { code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400 } },
        });
      },
    );

    it('a path that does not percent-decode gets our JSON 400 too', async () => {
      const response = await fetch(`${baseUrl}/api/rooms/%ZZ/users`, { headers: auth });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'BAD_REQUEST', data: { httpStatus: 400 } });
    });
  });

  describe('prototype pollution through REST bodies', () => {
    it.each([
      ['"__proto__"', '{"text":"hi","__proto__":{"polluted":true}}'],
      ['an escaped "__proto__"', '{"text":"hi","\\u005f_proto__":{"polluted":true}}'],
      ['"constructor.prototype"', '{"text":"hi","constructor":{"prototype":{"polluted":true}}}'],
    ])('refuses a body with %s (400), posting nothing', async (_label, body) => {
      const before = (await allMessages(baseUrl, user.token, 'robust')).length;
      const response = await rest(baseUrl, 'POST', '/rooms/robust/messages', { token: user.token, body });
      expect(expectRestError(response, 400).message).toMatch(/__proto__/);
      expect(await allMessages(baseUrl, user.token, 'robust')).toHaveLength(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('still accepts ordinary keys that merely look alike, and reports plain syntax errors as such', async () => {
      ok(
        await rest(baseUrl, 'POST', '/rooms/robust/messages', {
          token: user.token,
          body: '{"text":"proto","proto":1}',
        }),
      );
      const broken = await rest(baseUrl, 'POST', '/rooms/robust/messages', { token: user.token, body: '{"text":' });
      expect(expectRestError(broken, 400).message).toMatch(/not valid JSON/);
    });
  });
});
