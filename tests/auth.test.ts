import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, signUp, trpcClient, uniqueName } from './support/clients.ts';
import { expectRestError, expectTrpcError, newUser, ok, sessionCookie } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type Session = { user: { username: string }; token: string };
type Me = { user: { username: string } };

const PASSWORD = 'correct horse battery';

describe('auth', () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
  });
  afterAll(() => server.close());

  describe('sign-up', () => {
    it('REST: returns the user and a token that authenticates both transports', async () => {
      const username = uniqueName('Rest');
      const body = ok(
        await rest<Session>(baseUrl, 'POST', '/auth/sign-up', { body: { username, password: PASSWORD } }),
      );
      expect(body.user).toEqual({ username });
      expect(body.token.length).toBeGreaterThanOrEqual(32);
      expect(ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { token: body.token }))).toEqual({ user: { username } });
      expect(await trpcClient(baseUrl, body.token).auth.me.query()).toEqual({ user: { username } });
    });

    it('tRPC: returns the user and a token that authenticates both transports', async () => {
      const username = uniqueName('Trpc');
      const session = await trpcClient(baseUrl).auth.signUp.mutate({ username, password: PASSWORD });
      expect(session.user).toEqual({ username });
      expect(await trpcClient(baseUrl, session.token).auth.me.query()).toEqual({ user: { username } });
      expect(ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { token: session.token }))).toEqual({ user: { username } });
    });

    it('accepts the boundary lengths of usernames (3, 32) and passwords (8, 256)', async () => {
      const short = `u${String(process.pid).slice(-1)}x`;
      const long = uniqueName('L').padEnd(32, 'x');
      expect(long).toHaveLength(32);
      ok(await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username: short, password: 'k9#vQ2!x' } }));
      ok(await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username: long, password: 'p'.repeat(256) } }));
      ok(await rest(baseUrl, 'POST', '/auth/sign-in', { body: { username: long, password: 'p'.repeat(256) } }));
    });

    it('409 when the username is taken, also in a different letter case, on both transports', async () => {
      const username = uniqueName('Taken');
      await signUp(baseUrl, username);
      for (const variant of [username, username.toLowerCase(), username.toUpperCase()]) {
        const response = await rest(baseUrl, 'POST', '/auth/sign-up', {
          body: { username: variant, password: PASSWORD },
        });
        expectRestError(response, 409);
        await expectTrpcError(trpcClient(baseUrl).auth.signUp.mutate({ username: variant, password: PASSWORD }), 409);
      }
    });

    const badUsernames = ['ab', 'x'.repeat(33), 'has space', 'bad!char', 'émile', ''];
    it.each(badUsernames)('400 naming "username" for username %j on both transports', async (username) => {
      const response = await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username, password: PASSWORD } });
      expectRestError(response, 400, 'username');
      await expectTrpcError(trpcClient(baseUrl).auth.signUp.mutate({ username, password: PASSWORD }), 400, 'username');
    });

    it.each([
      ['7 characters', '1234567'],
      ['257 characters', 'p'.repeat(257)],
    ])('400 naming "password" for a password of %s on both transports', async (_label, password) => {
      const username = uniqueName();
      const response = await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username, password } });
      expectRestError(response, 400, 'password');
      await expectTrpcError(trpcClient(baseUrl).auth.signUp.mutate({ username, password }), 400, 'password');
    });

    it('400 listing both fields when both are missing', async () => {
      const response = await rest(baseUrl, 'POST', '/auth/sign-up', { body: {} });
      expectRestError(response, 400, 'username');
      expectRestError(response, 400, 'password');
    });
  });

  describe('sign-in', () => {
    it('keeps the display case: sign up "Alice…", sign in "alice…" over REST and tRPC, me says "Alice…"', async () => {
      const username = uniqueName('Alice');
      await signUp(baseUrl, username);
      const viaRest = ok(
        await rest<Session>(baseUrl, 'POST', '/auth/sign-in', {
          body: { username: username.toLowerCase(), password: PASSWORD },
        }),
      );
      expect(viaRest.user.username).toBe(username);
      expect(ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { token: viaRest.token })).user.username).toBe(username);

      const viaTrpc = await trpcClient(baseUrl).auth.signIn.mutate({
        username: username.toUpperCase(),
        password: PASSWORD,
      });
      expect(viaTrpc.user.username).toBe(username);
      expect((await trpcClient(baseUrl, viaTrpc.token).auth.me.query()).user.username).toBe(username);
      // Each sign-in is its own session.
      expect(viaTrpc.token).not.toBe(viaRest.token);
    });

    it('401 for a wrong password or an unknown user, on both transports', async () => {
      const user = await signUp(baseUrl);
      for (const body of [
        { username: user.username, password: 'wrong password' },
        { username: uniqueName('nobody'), password: PASSWORD },
      ]) {
        const response = await rest(baseUrl, 'POST', '/auth/sign-in', { body });
        expectRestError(response, 401);
        expect(sessionCookie(response)).toBeUndefined();
        await expectTrpcError(trpcClient(baseUrl).auth.signIn.mutate(body), 401);
      }
    });

    it('400 naming the field for malformed credentials', async () => {
      const response = await rest(baseUrl, 'POST', '/auth/sign-in', { body: { username: 'a b', password: PASSWORD } });
      expectRestError(response, 400, 'username');
      await expectTrpcError(
        trpcClient(baseUrl).auth.signIn.mutate({ username: uniqueName(), password: 'short' }),
        400,
        'password',
      );
    });
  });

  describe('me', () => {
    it('401 without a token, with a garbage token, and with a malformed Authorization header', async () => {
      expectRestError(await rest(baseUrl, 'GET', '/auth/me'), 401);
      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { token: 'garbage' }), 401);
      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { headers: { authorization: 'Bearer' } }), 401);
      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { headers: { cookie: 'atlas_session=garbage' } }), 401);
      await expectTrpcError(trpcClient(baseUrl).auth.me.query(), 401);
      await expectTrpcError(trpcClient(baseUrl, 'garbage').auth.me.query(), 401);
    });
  });

  describe('sign-out', () => {
    it('REST: the token stops working on both transports; other sessions of the same user keep working', async () => {
      const user = await newUser(baseUrl);
      const other = ok(
        await rest<Session>(baseUrl, 'POST', '/auth/sign-in', {
          body: { username: user.username, password: user.password },
        }),
      );
      expect(ok(await rest(baseUrl, 'POST', '/auth/sign-out', { token: user.token, body: {} }))).toEqual({ ok: true });

      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { token: user.token }), 401);
      await expectTrpcError(user.trpc.auth.me.query(), 401);
      expectRestError(await rest(baseUrl, 'GET', '/rooms', { token: user.token }), 401);
      // Signing out twice is not possible: the session is gone.
      expectRestError(await rest(baseUrl, 'POST', '/auth/sign-out', { token: user.token, body: {} }), 401);

      expect(ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { token: other.token })).user.username).toBe(user.username);
      expect((await trpcClient(baseUrl, other.token).auth.me.query()).user.username).toBe(user.username);
    });

    it('tRPC: the token stops working on both transports; other sessions of the same user keep working', async () => {
      const user = await newUser(baseUrl);
      const other = await trpcClient(baseUrl).auth.signIn.mutate({ username: user.username, password: user.password });
      expect(await user.trpc.auth.signOut.mutate()).toEqual({ ok: true });

      await expectTrpcError(user.trpc.auth.me.query(), 401);
      await expectTrpcError(user.trpc.rooms.list.query(), 401);
      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { token: user.token }), 401);

      expect((await trpcClient(baseUrl, other.token).auth.me.query()).user.username).toBe(user.username);
      expect(ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { token: other.token })).user.username).toBe(user.username);
    });

    it('401 without a session', async () => {
      expectRestError(await rest(baseUrl, 'POST', '/auth/sign-out', { body: {} }), 401);
      await expectTrpcError(trpcClient(baseUrl).auth.signOut.mutate(), 401);
    });
  });

  describe('cookie sessions', () => {
    it('sign-in sets an HttpOnly, SameSite=Lax atlas_session cookie holding the token, valid ~30 days', async () => {
      const user = await signUp(baseUrl);
      const response = await rest<Session>(baseUrl, 'POST', '/auth/sign-in', {
        body: { username: user.username, password: user.password },
      });
      const cookie = sessionCookie(response);
      expect(cookie).toBeDefined();
      const attributes = (cookie ?? '').split(';').map((part) => part.trim());
      expect(attributes[0]).toBe(`atlas_session=${response.body.token}`);
      expect(attributes).toContain('HttpOnly');
      expect(attributes.map((part) => part.toLowerCase())).toContain('samesite=lax');
      expect(attributes).toContain('Path=/');
      // Plain http here: Secure would make browsers drop the cookie.
      expect(attributes).not.toContain('Secure');
      const expires = attributes.find((part) => part.startsWith('Expires='));
      const days = (Date.parse(expires?.slice('Expires='.length) ?? '') - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThanOrEqual(30);
    });

    it('sign-up sets the session cookie too', async () => {
      const response = await rest<Session>(baseUrl, 'POST', '/auth/sign-up', {
        body: { username: uniqueName(), password: PASSWORD },
      });
      expect(sessionCookie(response)).toMatch(new RegExp(`^atlas_session=${response.body.token};`));
    });

    it('the cookie alone authenticates; sign-out with it clears the cookie and ends the session', async () => {
      const user = await signUp(baseUrl);
      const signIn = await rest<Session>(baseUrl, 'POST', '/auth/sign-in', {
        body: { username: user.username, password: user.password },
      });
      const cookie = `atlas_session=${signIn.body.token}`;

      const me = ok(await rest<Me>(baseUrl, 'GET', '/auth/me', { headers: { cookie } }));
      expect(me.user.username).toBe(user.username);
      ok(await rest(baseUrl, 'GET', '/rooms', { headers: { cookie } }));

      const signOut = await rest(baseUrl, 'POST', '/auth/sign-out', { headers: { cookie }, body: {} });
      expect(ok(signOut)).toEqual({ ok: true });
      const cleared = sessionCookie(signOut);
      expect(cleared).toBeDefined();
      const clearedAttributes = (cleared ?? '').split(';').map((part) => part.trim());
      expect(clearedAttributes[0]).toBe('atlas_session=');
      const expired =
        clearedAttributes.includes('Max-Age=0') ||
        Date.parse(clearedAttributes.find((part) => part.startsWith('Expires='))?.slice(8) ?? '') <= Date.now();
      expect(expired, cleared).toBe(true);

      expectRestError(await rest(baseUrl, 'GET', '/auth/me', { headers: { cookie } }), 401);
      // The other session (from sign-up) is unaffected.
      ok(await rest(baseUrl, 'GET', '/auth/me', { token: user.token }));
    });

    it('a bearer token wins over a stale cookie', async () => {
      const user = await signUp(baseUrl);
      const me = ok(
        await rest<Me>(baseUrl, 'GET', '/auth/me', { token: user.token, headers: { cookie: 'atlas_session=stale' } }),
      );
      expect(me.user.username).toBe(user.username);
    });
  });
});
