import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, signUp, trpcClient } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  joinRoom,
  type Member,
  newUser,
  ok,
  type TestUser,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const EVIL = 'https://evil.example';
const KIB = 1024;

/** A raw POST to the tRPC endpoint, to see status and headers the typed client hides. */
async function trpcPost(baseUrl: string, path: string, input: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/api/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof input === 'string' ? input : JSON.stringify(input),
  });
}

function retryAfterSeconds(headers: Headers): number {
  const value = headers.get('retry-after');
  expect(value, 'Retry-After header').toMatch(/^\d+$/);
  return Number(value);
}

// The default configuration: RATE_LIMITS=on. This file signs up far fewer than the 30-per-IP sign-up burst.
describe('security (RATE_LIMITS=on)', () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    server = await startTestServer();
    baseUrl = server.baseUrl;
  });
  afterAll(() => server.close());

  describe('429: posting too fast', () => {
    it('a burst of 30 messages passes, more are refused with Retry-After on both transports; others are unaffected', async () => {
      const fast = await newUser(baseUrl);
      const other = await newUser(baseUrl);
      await joinRoom(baseUrl, fast.token, 'burst');
      await joinRoom(baseUrl, other.token, 'burst');

      // One budget for both transports: 20 over REST and 20 over tRPC, all at once.
      const started = Date.now();
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async (_, index) => {
          const text = `burst ${index}`;
          const response =
            index % 2 === 0
              ? await rest(baseUrl, 'POST', '/rooms/burst/messages', { token: fast.token, body: { text } })
              : await trpcPost(
                  baseUrl,
                  'messages.post',
                  { room: 'burst', text },
                  { authorization: `Bearer ${fast.token}` },
                );
          if (response.status === 429) expect(retryAfterSeconds(response.headers)).toBeGreaterThanOrEqual(1);
          return response.status;
        }),
      );
      const elapsedSeconds = (Date.now() - started) / 1000;
      const passed = statuses.filter((status) => status === 200).length;
      const refused = statuses.filter((status) => status === 429).length;
      expect(passed + refused, JSON.stringify(statuses)).toBe(40);
      // Exactly the burst, plus at most the one-per-second refill that happened while the burst ran.
      expect(passed).toBeGreaterThanOrEqual(30);
      expect(passed).toBeLessThanOrEqual(30 + Math.ceil(elapsedSeconds));
      expect((await allMessages(baseUrl, other.token, 'burst')).length).toBe(passed);

      // Both transports say 429 with Retry-After while the bucket is empty.
      const viaRest = await rest(baseUrl, 'POST', '/rooms/burst/messages', {
        token: fast.token,
        body: { text: 'still too fast' },
      });
      const viaTrpc = await trpcPost(
        baseUrl,
        'messages.post',
        { room: 'burst', text: 'still too fast' },
        { authorization: `Bearer ${fast.token}` },
      );
      // At most one of the two can have been let through by a refill in between.
      expect([viaRest.status, viaTrpc.status].filter((status) => status === 429).length).toBeGreaterThanOrEqual(1);
      for (const response of [viaRest, viaTrpc]) {
        if (response.status === 429) expect(retryAfterSeconds(response.headers)).toBeGreaterThanOrEqual(1);
      }
      if (viaRest.status === 429) expectRestError(viaRest, 429);

      // Another user posting in the same room is not slowed down.
      for (let index = 0; index < 5; index += 1) {
        ok(
          await rest(baseUrl, 'POST', '/rooms/burst/messages', { token: other.token, body: { text: `calm ${index}` } }),
        );
      }
      const members = ok(await rest<{ users: Member[] }>(baseUrl, 'GET', '/rooms/burst/users', { token: other.token }));
      expect(members.users.find((member) => member.username === other.username)?.messageCount).toBe(5);
    });
  });

  describe('429: failed sign-ins', () => {
    // Counted per username and client address (here every call comes from 127.0.0.1); that the
    // owner elsewhere can still sign in is tested in sign-in-abuse.test.ts.
    it('after 10 failures for a username from one address, the 11th from there is refused even with the right password', async () => {
      const victim = await signUp(baseUrl);
      const bystander = await signUp(baseUrl);
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const wrong = { username: victim.username, password: `wrong password ${attempt}` };
        if (attempt % 2 === 0) {
          expectRestError(await rest(baseUrl, 'POST', '/auth/sign-in', { body: wrong }), 401);
        } else {
          await expectTrpcError(trpcClient(baseUrl).auth.signIn.mutate(wrong), 401);
        }
      }

      const right = { username: victim.username, password: victim.password };
      const viaRest = await rest(baseUrl, 'POST', '/auth/sign-in', { body: right });
      expectRestError(viaRest, 429);
      const seconds = retryAfterSeconds(viaRest.headers);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(15 * 60);

      const viaTrpc = await trpcPost(baseUrl, 'auth.signIn', right);
      expect(viaTrpc.status).toBe(429);
      retryAfterSeconds(viaTrpc.headers);
      // The limit is per username, whatever its letter case.
      const upper = await rest(baseUrl, 'POST', '/auth/sign-in', {
        body: { username: victim.username.toUpperCase(), password: victim.password },
      });
      expectRestError(upper, 429);

      // Existing sessions still work, and other usernames from the same address can sign in.
      ok(await rest(baseUrl, 'GET', '/auth/me', { token: victim.token }));
      ok(
        await rest(baseUrl, 'POST', '/auth/sign-in', {
          body: { username: bystander.username, password: bystander.password },
        }),
      );
    });
  });

  describe('413: request bodies over 64 KiB', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await newUser(baseUrl);
      await joinRoom(baseUrl, user.token, 'big');
    });

    it('REST refuses a body over 64 KiB with 413, and accepts one just under', async () => {
      const over = await rest(baseUrl, 'POST', '/rooms/big/messages', {
        token: user.token,
        body: { text: 'x'.repeat(65 * KIB) },
      });
      expect(over.status).toBe(413);
      const signUpOver = await rest(baseUrl, 'POST', '/auth/sign-up', {
        body: { username: 'big_body', password: 'p'.repeat(65 * KIB) },
      });
      expect(signUpOver.status).toBe(413);

      // Unknown fields are dropped, so a 63 KiB body with a valid text is fine.
      const under = await rest(baseUrl, 'POST', '/rooms/big/messages', {
        token: user.token,
        body: { text: 'fits', padding: 'x'.repeat(63 * KIB) },
      });
      expect(ok(under)).toMatchObject({ message: { text: 'fits' } });
    });

    it('tRPC refuses a body over 64 KiB with 413', async () => {
      const response = await trpcPost(
        baseUrl,
        'messages.post',
        { room: 'big', text: 'x'.repeat(65 * KIB) },
        { authorization: `Bearer ${user.token}` },
      );
      expect(response.status).toBe(413);
      const messages = await allMessages(baseUrl, user.token, 'big');
      expect(messages.map((message) => message.text)).toEqual(['fits']);
    });
  });

  describe('403: cross-site requests riding on the session cookie (CSRF)', () => {
    let user: TestUser;
    let cookie: string;
    beforeAll(async () => {
      user = await newUser(baseUrl);
      cookie = `atlas_session=${user.token}`;
      await joinRoom(baseUrl, user.token, 'csrf');
    });

    it('refuses cookie-authenticated POSTs from a foreign Origin over REST and tRPC, with no effect', async () => {
      const headers = { cookie, origin: EVIL };
      expectRestError(await rest(baseUrl, 'POST', '/rooms/csrf-target/join', { headers, body: {} }), 403);
      expectRestError(await rest(baseUrl, 'POST', '/rooms/csrf/messages', { headers, body: { text: 'forged' } }), 403);
      expectRestError(await rest(baseUrl, 'POST', '/auth/sign-out', { headers, body: {} }), 403);
      expect((await trpcPost(baseUrl, 'rooms.join', { room: 'csrf-target' }, headers)).status).toBe(403);
      expect((await trpcPost(baseUrl, 'messages.post', { room: 'csrf', text: 'forged' }, headers)).status).toBe(403);
      const nullOrigin = await rest(baseUrl, 'POST', '/rooms/csrf/messages', {
        headers: { cookie, origin: 'null' },
        body: { text: 'forged' },
      });
      expectRestError(nullOrigin, 403);

      // Nothing happened: the room was not created, nothing was posted, the session still works.
      expectRestError(await rest(baseUrl, 'GET', '/rooms/csrf-target/users', { token: user.token }), 404);
      expect(await allMessages(baseUrl, user.token, 'csrf')).toEqual([]);
      ok(await rest(baseUrl, 'GET', '/auth/me', { headers: { cookie } }));
    });

    it('never grants CORS to a foreign origin, so a foreign page cannot read answers either', async () => {
      const read = await rest(baseUrl, 'GET', '/auth/me', { headers: { cookie, origin: EVIL } });
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
      expect(read.headers.get('access-control-allow-credentials')).toBeNull();
      const preflight = await fetch(`${baseUrl}/api/rooms/csrf/messages`, {
        method: 'OPTIONS',
        headers: { origin: EVIL, 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses a sign-in POST from a foreign Origin (login CSRF)', async () => {
      const response = await rest(baseUrl, 'POST', '/auth/sign-in', {
        headers: { origin: EVIL },
        body: { username: user.username, password: user.password },
      });
      expectRestError(response, 403);
    });

    it('lets the same Origin, a Bearer token, or a client without Origin through', async () => {
      const sameOrigin = await rest(baseUrl, 'POST', '/rooms/csrf/messages', {
        headers: { cookie, origin: baseUrl },
        body: { text: 'same origin' },
      });
      ok(sameOrigin);
      const sameOriginTrpc = await trpcPost(
        baseUrl,
        'messages.post',
        { room: 'csrf', text: 'same origin trpc' },
        {
          cookie,
          origin: baseUrl,
        },
      );
      expect(sameOriginTrpc.status).toBe(200);
      const bearer = await rest(baseUrl, 'POST', '/rooms/csrf/messages', {
        token: user.token,
        headers: { cookie, origin: EVIL },
        body: { text: 'bearer' },
      });
      ok(bearer);
      const bearerTrpc = await trpcPost(
        baseUrl,
        'messages.post',
        { room: 'csrf', text: 'bearer trpc' },
        {
          authorization: `Bearer ${user.token}`,
          origin: EVIL,
        },
      );
      expect(bearerTrpc.status).toBe(200);
      const noOrigin = await rest(baseUrl, 'POST', '/rooms/csrf/messages', {
        headers: { cookie },
        body: { text: 'cli' },
      });
      ok(noOrigin);
      expect((await allMessages(baseUrl, user.token, 'csrf')).map((message) => message.text)).toEqual([
        'same origin',
        'same origin trpc',
        'bearer',
        'bearer trpc',
        'cli',
      ]);
    });
  });

  describe('401 on every endpoint that needs a session', () => {
    it.each([
      ['POST', '/auth/sign-out', {}],
      ['GET', '/auth/me', undefined],
      ['GET', '/rooms', undefined],
      ['POST', '/rooms/any/join', {}],
      ['GET', '/rooms/any/users', undefined],
      ['GET', '/rooms/any/messages', undefined],
      ['POST', '/rooms/any/messages', { text: 'hi' }],
      ['GET', '/stats/rooms', undefined],
      ['GET', '/stats/users', undefined],
      ['GET', '/stats/users/someone', undefined],
    ])('%s %s', async (method, path, body) => {
      expectRestError(await rest(baseUrl, method, path, { body }), 401);
      expectRestError(await rest(baseUrl, method, path, { body, token: 'not-a-session' }), 401);
    });
  });

  describe('malformed requests get a 4xx, never a 5xx', () => {
    let user: TestUser;
    let auth: Record<string, string>;
    beforeAll(async () => {
      user = await newUser(baseUrl);
      auth = { authorization: `Bearer ${user.token}` };
      await joinRoom(baseUrl, user.token, 'junk');
    });

    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const cases: [string, string, string, (auth: Record<string, string>) => RequestInit][] = [
      ['REST invalid JSON', 'POST', '/api/rooms/junk/messages', (a) => json(a, '{"text": "unterminated')],
      ['REST empty JSON body', 'POST', '/api/rooms/junk/messages', (a) => json(a, '')],
      ['REST text/plain body', 'POST', '/api/rooms/junk/messages', (a) => typed(a, 'text/plain', 'hello')],
      [
        'REST form body',
        'POST',
        '/api/rooms/junk/messages',
        (a) => typed(a, 'application/x-www-form-urlencoded', 'text=hi'),
      ],
      ['REST no content-type', 'POST', '/api/rooms/junk/messages', (a) => ({ headers: a, body: '{"text":"hi"}' })],
      ['REST text as a number', 'POST', '/api/rooms/junk/messages', (a) => json(a, '{"text": 42}')],
      ['REST text as null', 'POST', '/api/rooms/junk/messages', (a) => json(a, '{"text": null}')],
      ['REST array body', 'POST', '/api/rooms/junk/messages', (a) => json(a, '[{"text":"hi"}]')],
      ['REST string body', 'POST', '/api/rooms/junk/messages', (a) => json(a, '"hi"')],
      ['REST null body', 'POST', '/api/rooms/junk/messages', (a) => json(a, 'null')],
      ['REST __proto__ key', 'POST', '/api/rooms/junk/messages', (a) => json(a, '{"__proto__":{"text":"x"}}')],
      ['REST deeply nested body', 'POST', '/api/rooms/junk/messages', (a) => json(a, `{"text":${nested(5000)}}`)],
      ['REST deeply nested extra field', 'POST', '/api/auth/sign-up', () => json({}, `{"x":${nested(5000)}}`)],
      ['REST sign-up with an array', 'POST', '/api/auth/sign-up', () => json({}, '[]')],
      [
        'REST sign-up with numbers',
        'POST',
        '/api/auth/sign-up',
        () => json({}, '{"username":123,"password":12345678}'),
      ],
      [
        'REST limit too large to be an integer',
        'GET',
        '/api/rooms/junk/messages?limit=99999999999999999999999',
        (a) => ({ headers: a }),
      ],
      [
        'REST after beyond MAX_SAFE_INTEGER',
        'GET',
        '/api/rooms/junk/messages?after=9007199254740993',
        (a) => ({ headers: a }),
      ],
      ['REST negative before', 'GET', '/api/rooms/junk/messages?before=-1', (a) => ({ headers: a })],
      ['REST repeated query parameter', 'GET', '/api/rooms/junk/messages?limit=1&limit=2', (a) => ({ headers: a })],
      ['REST bad percent-encoding', 'GET', '/api/rooms/%ZZ/messages', (a) => ({ headers: a })],
      ['REST 2000-character username', 'GET', `/api/stats/users/${'a'.repeat(2000)}`, (a) => ({ headers: a })],
      ['REST unknown path', 'GET', '/api/nope', (a) => ({ headers: a })],
      ['REST wrong method', 'DELETE', '/api/rooms/junk/join', (a) => ({ headers: a })],
      ['tRPC invalid JSON', 'POST', '/api/trpc/messages.post', (a) => json(a, '{bad')],
      ['tRPC text/plain body', 'POST', '/api/trpc/messages.post', (a) => typed(a, 'text/plain', 'hello')],
      ['tRPC array input', 'POST', '/api/trpc/messages.post', (a) => json(a, '[1,2]')],
      ['tRPC text as a number', 'POST', '/api/trpc/messages.post', (a) => json(a, '{"room":"junk","text":42}')],
      ['tRPC room as an object', 'POST', '/api/trpc/rooms.join', (a) => json(a, '{"room":{"a":1}}')],
      [
        'tRPC deeply nested input',
        'POST',
        '/api/trpc/messages.post',
        (a) => json(a, `{"room":"junk","text":${nested(5000)}}`),
      ],
      ['tRPC batch with a non-object', 'POST', '/api/trpc/messages.post?batch=1', (a) => json(a, '[1]')],
      ['tRPC query with invalid input JSON', 'GET', '/api/trpc/messages.list?input=%7Bbad', (a) => ({ headers: a })],
      ['tRPC GET of a mutation', 'GET', '/api/trpc/messages.post?input=%7B%7D', (a) => ({ headers: a })],
      ['tRPC unknown procedure', 'GET', '/api/trpc/nope.nope', (a) => ({ headers: a })],
      [
        'tRPC huge number',
        'GET',
        `/api/trpc/messages.list?input=${encodeURIComponent('{"room":"junk","after":1e308}')}`,
        (a) => ({ headers: a }),
      ],
    ];

    function json(headers: Record<string, string>, body: string): RequestInit {
      return typed(headers, 'application/json', body);
    }
    function typed(headers: Record<string, string>, contentType: string, body: string): RequestInit {
      return { headers: { ...headers, 'content-type': contentType }, body };
    }

    it.each(cases)('%s → 4xx', async (_label, method, path, init) => {
      const response = await fetch(`${baseUrl}${path}`, { method, ...init(auth) });
      const text = await response.text();
      expect(response.status, text).toBeGreaterThanOrEqual(400);
      expect(response.status, text).toBeLessThan(500);
      // Internals stay on the server.
      expect(text).not.toMatch(/\bat .+\.(ts|js|mjs):\d+/);
      expect(text).not.toContain(process.cwd());
    });

    it('the server is still healthy and the room holds no junk afterwards', async () => {
      const health = await fetch(`${baseUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await allMessages(baseUrl, user.token, 'junk')).toEqual([]);
    });
  });
});
