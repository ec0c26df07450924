import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, signUp, trpcClient, uniqueName } from './support/clients.ts';
import { expectRestError, expectTrpcError, ok, sessionCookie } from './support/fixtures.ts';
import { RawTrpcSocket } from './support/raw-ws.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type Session = { user: { username: string }; token: string };

const NEW_PASSWORD = 'a brand new passphrase';

describe('account security (item 12)', () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
  });
  afterAll(() => server.close());

  /** A user with three sessions (sign-up + two sign-ins) and a WebSocket on the last one. */
  async function userWithSessions() {
    const user = await signUp(baseUrl);
    const signIn = async () =>
      ok(
        await rest<Session>(baseUrl, 'POST', '/auth/sign-in', {
          body: { username: user.username, password: user.password },
        }),
      ).token;
    const second = await signIn();
    const third = await signIn();
    const socket = await RawTrpcSocket.open(baseUrl, { authorization: `Bearer ${third}` });
    // The server has registered the socket under its session once it answered a call on it.
    expect((await socket.call('query', 'auth.me')).status).toBe(200);
    return { ...user, sessions: [user.token, second, third], socket };
  }

  const me = (token: string) => rest(baseUrl, 'GET', '/auth/me', { token });

  describe('new passwords', () => {
    it.each([['password'], ['12345678'], ['Password'], ['qwertyuiop'], ['iloveyou']])(
      'sign-up refuses the common password %j with 400 naming "password", on both transports',
      async (password) => {
        const username = uniqueName();
        const response = await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username, password } });
        const body = expectRestError(response, 400, 'password');
        expect(JSON.stringify(body)).toMatch(/most common passwords/);
        const failure = await expectTrpcError(
          trpcClient(baseUrl).auth.signUp.mutate({ username, password }),
          400,
          'password',
        );
        expect(failure.message).toMatch(/^password: .*most common passwords/);
      },
    );

    it('sign-up refuses the username as password, in any letter case', async () => {
      const username = uniqueName('Same');
      for (const password of [username, username.toLowerCase(), username.toUpperCase()]) {
        expectRestError(
          await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username, password } }),
          400,
          'password',
        );
        await expectTrpcError(trpcClient(baseUrl).auth.signUp.mutate({ username, password }), 400, 'password');
      }
      // Nothing was created: the name is still free.
      ok(await rest(baseUrl, 'POST', '/auth/sign-up', { body: { username, password: 'correct horse battery' } }));
    });
  });

  describe('change-password', () => {
    it('REST: ends every other session and closes its sockets, keeps this one; the new password works', async () => {
      const user = await userWithSessions();
      const [current = '', second = '', third = ''] = user.sessions;
      const response = await rest(baseUrl, 'POST', '/auth/change-password', {
        token: current,
        body: { currentPassword: user.password, newPassword: NEW_PASSWORD },
      });
      expect(ok(response)).toEqual({ ok: true });
      ok(await me(current));
      expectRestError(await me(second), 401);
      expectRestError(await me(third), 401);
      expect(await user.socket.closed).toBe(4401);

      const credentials = (password: string) => ({ body: { username: user.username, password } });
      expectRestError(await rest(baseUrl, 'POST', '/auth/sign-in', credentials(user.password)), 401);
      ok(await rest(baseUrl, 'POST', '/auth/sign-in', credentials(NEW_PASSWORD)));
    });

    it('tRPC: the same, through the typed client', async () => {
      const user = await userWithSessions();
      const [current = '', second = ''] = user.sessions;
      expect(
        await trpcClient(baseUrl, current).auth.changePassword.mutate({
          currentPassword: user.password,
          newPassword: NEW_PASSWORD,
        }),
      ).toEqual({ ok: true });
      expect(await trpcClient(baseUrl, current).auth.me.query()).toEqual({ user: { username: user.username } });
      await expectTrpcError(trpcClient(baseUrl, second).auth.me.query(), 401);
      expect(await user.socket.closed).toBe(4401);
      await trpcClient(baseUrl).auth.signIn.mutate({ username: user.username, password: NEW_PASSWORD });
    });

    it('401 for a wrong current password, and nothing changes', async () => {
      const user = await userWithSessions();
      const [current = '', second = ''] = user.sessions;
      const wrong = { currentPassword: 'not my password', newPassword: NEW_PASSWORD };
      const response = await rest(baseUrl, 'POST', '/auth/change-password', { token: current, body: wrong });
      expect(expectRestError(response, 401).message).toBe('Wrong current password');
      await expectTrpcError(trpcClient(baseUrl, current).auth.changePassword.mutate(wrong), 401);
      ok(await me(second));
      expect(user.socket.closeCode).toBeNull();
      ok(await rest(baseUrl, 'POST', '/auth/sign-in', { body: { username: user.username, password: user.password } }));
      user.socket.close();
    });

    it('400 naming "newPassword" for a common password or the username; nothing changes', async () => {
      const user = await userWithSessions();
      const [current = '', second = ''] = user.sessions;
      for (const newPassword of ['password1', user.username.toUpperCase()]) {
        const body = { currentPassword: user.password, newPassword };
        expectRestError(
          await rest(baseUrl, 'POST', '/auth/change-password', { token: current, body }),
          400,
          'newPassword',
        );
        await expectTrpcError(trpcClient(baseUrl, current).auth.changePassword.mutate(body), 400, 'newPassword');
      }
      ok(await me(second));
      user.socket.close();
    });

    it('401 without a session', async () => {
      const body = { currentPassword: 'whatever it is', newPassword: NEW_PASSWORD };
      expectRestError(await rest(baseUrl, 'POST', '/auth/change-password', { body }), 401);
      await expectTrpcError(trpcClient(baseUrl).auth.changePassword.mutate(body), 401);
    });
  });

  describe('sign-out-all', () => {
    it('REST: ends every session of the user, this one too, clears the cookie and closes the sockets', async () => {
      const user = await userWithSessions();
      const other = await signUp(baseUrl);
      const [current = '', second = '', third = ''] = user.sessions;
      const response = await rest(baseUrl, 'POST', '/auth/sign-out-all', {
        headers: { cookie: `atlas_session=${current}` },
        body: {},
      });
      expect(ok(response)).toEqual({ ok: true });
      expect(sessionCookie(response)).toMatch(/^atlas_session=;/);
      for (const token of [current, second, third]) expectRestError(await me(token), 401);
      expect(await user.socket.closed).toBe(4401);
      // Other users are untouched.
      ok(await me(other.token));
    });

    it('tRPC: the same', async () => {
      const user = await userWithSessions();
      const [current = '', second = ''] = user.sessions;
      expect(await trpcClient(baseUrl, current).auth.signOutAll.mutate()).toEqual({ ok: true });
      await expectTrpcError(trpcClient(baseUrl, current).auth.me.query(), 401);
      await expectTrpcError(trpcClient(baseUrl, second).auth.me.query(), 401);
      expect(await user.socket.closed).toBe(4401);
      // Signing in again works.
      await trpcClient(baseUrl).auth.signIn.mutate({ username: user.username, password: user.password });
    });

    it('401 without a session', async () => {
      expectRestError(await rest(baseUrl, 'POST', '/auth/sign-out-all', { body: {} }), 401);
      await expectTrpcError(trpcClient(baseUrl).auth.signOutAll.mutate(), 401);
    });
  });
});
