import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, uniqueName } from './support/clients.ts';
import { allMessages, expectRestError, joinRoom, newUser, ok, type TestUser } from './support/fixtures.ts';
import { RawTrpcSocket } from './support/raw-ws.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const EVIL = 'https://evil.example';

type Session = { user: { username: string }; token: string };

/** A raw tRPC call over HTTP, to see status and headers. */
async function trpcHttp(baseUrl: string, path: string, init: { input?: unknown; headers?: Record<string, string> }) {
  const response = await fetch(`${baseUrl}/api/trpc/${path}`, {
    method: init.input === undefined ? 'GET' : 'POST',
    headers: { ...(init.input === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.input === undefined ? undefined : JSON.stringify(init.input),
  });
  await response.text();
  return response;
}

/** The Set-Cookie header for `name`, split into its attributes. */
function cookieAttributes(headers: Headers, name: string): string[] | undefined {
  const cookie = headers.getSetCookie().find((value) => value.startsWith(`${name}=`));
  return cookie?.split(';').map((part) => part.trim());
}

describe('the Authorization header (item 8)', () => {
  let server: TestServer;
  let user: TestUser;
  let cookie: string;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    user = await newUser(server.baseUrl);
    cookie = `atlas_session=${user.token}`;
    await joinRoom(server.baseUrl, user.token, 'headers');
  });
  afterAll(() => server.close());

  it('a blank bearer header with a valid cookie from a foreign Origin is refused (403) and has no effect', async () => {
    const headers = { authorization: 'Bearer \u00a0', cookie, origin: EVIL };
    const viaRest = await rest(server.baseUrl, 'POST', '/rooms/headers/messages', {
      headers,
      body: { text: 'forged' },
    });
    expectRestError(viaRest, 403);
    const viaTrpc = await trpcHttp(server.baseUrl, 'messages.post', {
      input: { room: 'headers', text: 'forged' },
      headers,
    });
    expect(viaTrpc.status).toBe(403);
    expect(await allMessages(server.baseUrl, user.token, 'headers')).toEqual([]);
  });

  it.each([['Bearer \u00a0'], ['Bearer'], ['Bearer '], ['bearer not a token'], ['garbage'], ['']])(
    'a malformed Authorization header %j never falls back to the cookie: 401',
    async (authorization) => {
      const headers = { authorization, cookie };
      expectRestError(await rest(server.baseUrl, 'GET', '/auth/me', { headers }), 401);
      expect((await trpcHttp(server.baseUrl, 'auth.me', { headers })).status).toBe(401);
    },
  );

  it("a proxy's Basic credentials do not get in the way of the cookie, nor exempt from the Origin check", async () => {
    const basic = { authorization: `Basic ${Buffer.from('proxy:secret').toString('base64')}`, cookie };
    expect(
      ok(await rest<{ user: { username: string } }>(server.baseUrl, 'GET', '/auth/me', { headers: basic })),
    ).toEqual({ user: { username: user.username } });
    const forged = await rest(server.baseUrl, 'POST', '/rooms/headers/messages', {
      headers: { ...basic, origin: EVIL },
      body: { text: 'forged' },
    });
    expectRestError(forged, 403);
  });

  it('without an Origin header, Sec-Fetch-Site: cross-site or same-site is refused; same-origin and none pass', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const headers = { cookie, 'sec-fetch-site': site };
      expectRestError(
        await rest(server.baseUrl, 'POST', '/rooms/headers/messages', { headers, body: { text: site } }),
        403,
      );
      expect(
        (await trpcHttp(server.baseUrl, 'messages.post', { input: { room: 'headers', text: site }, headers })).status,
      ).toBe(403);
    }
    for (const site of ['same-origin', 'none']) {
      const headers = { cookie, 'sec-fetch-site': site };
      ok(await rest(server.baseUrl, 'POST', '/rooms/headers/messages', { headers, body: { text: site } }));
    }
    expect((await allMessages(server.baseUrl, user.token, 'headers')).map((message) => message.text)).toEqual([
      'same-origin',
      'none',
    ]);
  });
});

describe('https: HSTS and the __Host- cookie (item 9)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off', TRUST_PROXY: '1' });
  });
  afterAll(() => server.close());

  const HTTPS = { 'x-forwarded-proto': 'https' };

  it('over https (per the trusted proxy) sign-in sets __Host-atlas_session: Secure, Path=/, no Domain; HSTS is sent', async () => {
    const username = uniqueName('Tls');
    const signUp = await rest<Session>(server.baseUrl, 'POST', '/auth/sign-up', {
      headers: HTTPS,
      body: { username, password: 'correct horse battery' },
    });
    expect(signUp.status).toBe(200);
    const attributes = cookieAttributes(signUp.headers, '__Host-atlas_session');
    expect(attributes?.[0]).toBe(`__Host-atlas_session=${signUp.body.token}`);
    expect(attributes).toContain('Secure');
    expect(attributes).toContain('Path=/');
    expect(attributes).toContain('HttpOnly');
    expect(attributes?.some((part) => part.toLowerCase().startsWith('domain='))).toBe(false);
    expect(cookieAttributes(signUp.headers, 'atlas_session')).toBeUndefined();
    expect(signUp.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);

    const health = await fetch(`${server.baseUrl}/healthz`, { headers: HTTPS });
    expect(health.headers.get('strict-transport-security')).toMatch(/^max-age=/);

    // Over https only the __Host- cookie counts; the plain one would be plantable by a sibling site.
    const hostCookie = { ...HTTPS, cookie: `__Host-atlas_session=${signUp.body.token}` };
    ok(await rest(server.baseUrl, 'GET', '/auth/me', { headers: hostCookie }));
    const plainCookie = { ...HTTPS, cookie: `atlas_session=${signUp.body.token}` };
    expectRestError(await rest(server.baseUrl, 'GET', '/auth/me', { headers: plainCookie }), 401);

    // Sign-out clears the __Host- cookie (a browser only accepts that with Secure and Path=/).
    const signOut = await rest(server.baseUrl, 'POST', '/auth/sign-out', { headers: hostCookie, body: {} });
    ok(signOut);
    const cleared = cookieAttributes(signOut.headers, '__Host-atlas_session');
    expect(cleared?.[0]).toBe('__Host-atlas_session=');
    expect(cleared).toContain('Secure');
    expect(cleared).toContain('Path=/');
  });

  it('a WebSocket upgraded over https reads the __Host- cookie, and only that one', async () => {
    const session = await rest<Session>(server.baseUrl, 'POST', '/auth/sign-up', {
      headers: HTTPS,
      body: { username: uniqueName('TlsWs'), password: 'correct horse battery' },
    });
    const hostCookie = await RawTrpcSocket.open(server.baseUrl, {
      ...HTTPS,
      cookie: `__Host-atlas_session=${session.body.token}`,
    });
    const plainCookie = await RawTrpcSocket.open(server.baseUrl, {
      ...HTTPS,
      cookie: `atlas_session=${session.body.token}`,
    });
    try {
      expect((await hostCookie.call('query', 'auth.me')).status).toBe(200);
      expect((await plainCookie.call('query', 'auth.me')).status).toBe(401);
    } finally {
      hostCookie.close();
      plainCookie.close();
    }
  });

  it('over plain http: atlas_session without Secure, no HSTS, and the __Host- cookie is not read', async () => {
    const response = await rest<Session>(server.baseUrl, 'POST', '/auth/sign-up', {
      body: { username: uniqueName('Plain'), password: 'correct horse battery' },
    });
    const attributes = cookieAttributes(response.headers, 'atlas_session');
    expect(attributes?.[0]).toBe(`atlas_session=${response.body.token}`);
    expect(attributes).not.toContain('Secure');
    expect(cookieAttributes(response.headers, '__Host-atlas_session')).toBeUndefined();
    expect(response.headers.get('strict-transport-security')).toBeNull();
    const hostCookie = { cookie: `__Host-atlas_session=${response.body.token}` };
    expectRestError(await rest(server.baseUrl, 'GET', '/auth/me', { headers: hostCookie }), 401);
  });

  it('X-Forwarded-Proto is ignored without TRUST_PROXY', async () => {
    const direct = await startTestServer({ RATE_LIMITS: 'off' });
    try {
      const response = await rest(direct.baseUrl, 'POST', '/auth/sign-up', {
        headers: HTTPS,
        body: { username: uniqueName(), password: 'correct horse battery' },
      });
      expect(cookieAttributes(response.headers, 'atlas_session')).toBeDefined();
      expect(response.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await direct.close();
    }
  });
});

describe('Cache-Control: no-store on API answers (item 11)', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    user = await newUser(server.baseUrl);
  });
  afterAll(() => server.close());

  it('REST: sign-up, sign-in, me, a list and errors', async () => {
    const responses = [
      await rest(server.baseUrl, 'POST', '/auth/sign-up', {
        body: { username: uniqueName(), password: 'correct horse battery' },
      }),
      await rest(server.baseUrl, 'POST', '/auth/sign-in', {
        body: { username: user.username, password: user.password },
      }),
      await rest(server.baseUrl, 'GET', '/auth/me', { token: user.token }),
      await rest(server.baseUrl, 'GET', '/rooms', { token: user.token }),
      await rest(server.baseUrl, 'GET', '/auth/me'),
      await rest(server.baseUrl, 'GET', '/nope'),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 401, 404]);
    for (const response of responses) expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('tRPC: queries, mutations and errors', async () => {
    const responses = [
      await trpcHttp(server.baseUrl, 'auth.me', { headers: { authorization: `Bearer ${user.token}` } }),
      await trpcHttp(server.baseUrl, 'auth.signIn', { input: { username: user.username, password: user.password } }),
      await trpcHttp(server.baseUrl, 'auth.me', {}),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 401]);
    for (const response of responses) expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('HEAD on the REST API', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    user = await newUser(server.baseUrl);
  });
  afterAll(() => server.close());

  it('answers with the status GET would give, and no body', async () => {
    const head = (path: string, token?: string) =>
      fetch(`${server.baseUrl}/api${path}`, {
        method: 'HEAD',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect((await head('/rooms')).status).toBe(401);
    const signedIn = await head('/rooms', user.token);
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toBe('');
    expect((await head('/rooms/no-such-room/messages', user.token)).status).toBe(404);
    expect((await head('/no-such-endpoint', user.token)).status).toBe(404);
  });
});
