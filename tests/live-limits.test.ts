import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../server/config.ts';
import { rest, trpcClient, uniqueName, wsTrpcClient } from './support/clients.ts';
import { joinRoom, newUser, type TestUser } from './support/fixtures.ts';
import { follow, range } from './support/live.ts';
import {
  errorCode,
  openRawSocket,
  type RawFrame,
  type RawSocket,
  subscribeFrame,
  UpgradeRefused,
} from './support/raw-socket.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { openSse } from './support/sse.ts';

/** Polled conditions wait this long: generous, for a loaded CI machine. */
const WAIT = { timeout: 20_000, interval: 20 } as const;

async function member(server: TestServer, room: string): Promise<TestUser> {
  const user = await newUser(server.baseUrl, uniqueName('lim'));
  await joinRoom(server.baseUrl, user.token, room);
  return user;
}

/** Posts `count` messages of `text` over tRPC/HTTP, 100 at a time (group-committed). */
async function postBulk(user: TestUser, room: string, count: number, text: string): Promise<void> {
  for (let first = 0; first < count; first += 100) {
    await Promise.all(range(1, Math.min(100, count - first)).map(() => user.trpc.messages.post.mutate({ room, text })));
  }
}

/** The seq of the room's newest message. */
async function lastSeq(server: TestServer, user: TestUser, room: string): Promise<number> {
  const page = await rest<{ messages: Array<{ seq: number }> }>(
    server.baseUrl,
    'GET',
    `/rooms/${room}/messages?limit=1`,
    {
      token: user.token,
    },
  );
  return page.body.messages.at(-1)?.seq ?? 0;
}

const isData = (frame: RawFrame) => frame.result?.type === 'data';

async function healthzMs(server: TestServer): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.baseUrl}/healthz`);
  expect(response.status).toBe(200);
  return performance.now() - started;
}

/**
 * A replay larger than what the kernel buffers of one loopback connection take in (about 4 MB
 * here, even for a client that never reads): 500 messages of 4000 three-byte characters, 6 MB.
 */
const BIG_TEXT = '€'.repeat(4000);
const BIG_COUNT = 500;

describe('per-socket limits, which RATE_LIMITS=off never lifts', () => {
  let server: TestServer;
  const opened: RawSocket[] = [];
  const bigRoom = uniqueName('big');
  let owner: TestUser;
  beforeAll(async () => {
    // Per-user and per-IP caps of 1 show that RATE_LIMITS=off lifts them (the attack opens 4 sockets).
    server = await startTestServer({
      RATE_LIMITS: 'off',
      WS_MAX_SOCKETS_PER_USER: '1',
      WS_MAX_SOCKETS_PER_IP: '1',
      LIVE_MAX_QUEUED_EVENTS: '10',
    });
    owner = await member(server, bigRoom);
    await postBulk(owner, bigRoom, BIG_COUNT, BIG_TEXT);
  }, 60_000);
  afterAll(async () => {
    for (const socket of opened) socket.close();
    await server.close();
  });
  const open = async (token?: string) => {
    const socket = await openRawSocket(server.baseUrl, { token });
    opened.push(socket);
    return socket;
  };

  it("the audit's attack, bounded: 4 sockets x 100 replays from lastEventId 0, never read; RSS stays flat and /healthz fast", async () => {
    const room = bigRoom;
    const attacker = await member(server, room);
    // Without limits: 400 replays of 6 MB (measured before the fix with 4 x 100 replays of 4 MB:
    // RSS passed 1.6 GB and /healthz timed out).
    const rssBefore = process.memoryUsage().rss;

    const sockets = await Promise.all(range(1, 4).map(() => open(attacker.token)));
    for (const socket of sockets) {
      for (let first = 1; first <= 100; first += 50) {
        socket.send(range(first, first + 49).map((id) => subscribeFrame(id, room, '0')));
      }
      socket.pause();
    }

    // Each socket keeps one subscription (the others are refused), whose replay stalls: it waits
    // for the socket to drain below a quarter of the 1 MiB cap before sending more.
    const lowWater = (1024 * 1024) / 4;
    const wss = server.app.server.websocketServer;
    await expect.poll(() => [...wss.clients].filter((client) => client.bufferedAmount > lowWater).length, WAIT).toBe(4);

    // Margins: without the limits RSS grows by hundreds of MB within a second or two and /healthz
    // times out; with them the attack holds about 4 x 1 MiB. 250 MB and 2 s leave room for GC
    // timing and a loaded machine.
    const timings: number[] = [];
    let rssPeak = process.memoryUsage().rss;
    for (let sample = 0; sample < 10; sample += 1) {
      timings.push(await healthzMs(server));
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    expect(rssPeak - rssBefore).toBeLessThan(250 * 1024 * 1024);
    expect(Math.max(...timings)).toBeLessThan(2000);
    for (const client of wss.clients) expect(client.bufferedAmount).toBeLessThanOrEqual(1024 * 1024);
    expect(server.app.deps.connections.stats()).toMatchObject({ sockets: 4, subscriptions: 4 });

    // What the attacker gets once it reads: the replay of its one subscription, and a refusal for
    // every other (one rooms.events per room per socket).
    const [first] = sockets;
    if (!first) throw new Error('no socket');
    first.resume();
    await first.until((s) => range(2, 100).every((id) => s.framesFor(id).some((frame) => frame.error)), 30_000);
    expect(new Set(range(2, 100).map((id) => errorCode(first.framesFor(id)[0])))).toEqual(new Set(['CONFLICT']));
    await first.until((s) => s.framesFor(1).filter(isData).length >= BIG_COUNT + 1, 30_000);
    for (const socket of sockets) socket.close();
    await expect.poll(() => server.app.deps.connections.stats().sockets, WAIT).toBe(0);
  }, 120_000);

  it('refuses a second rooms.events for one room on one socket (CONFLICT) and allows it again once stopped', async () => {
    const room = uniqueName('dup');
    const other = uniqueName('dup');
    const alice = await member(server, room);
    await joinRoom(server.baseUrl, alice.token, other);
    const socket = await open(alice.token);
    socket.send(subscribeFrame(1, room));
    socket.send(subscribeFrame(2, room));
    socket.send(subscribeFrame(3, other));
    await socket.until((s) => s.framesFor(2).length > 0 && s.framesFor(3).some(isData));
    const refusal = socket.framesFor(2)[0];
    expect(errorCode(refusal)).toBe('CONFLICT');
    expect(refusal?.error?.message).toMatch(/already follows room/);

    socket.send({ id: 1, method: 'subscription.stop' });
    socket.send(subscribeFrame(4, room));
    await socket.until((s) => s.framesFor(4).some(isData));
    expect(socket.framesFor(4).some((frame) => frame.error)).toBe(false);
    socket.close();
  });

  it('a stop that overtakes its start (same read) does not leave the room taken', async () => {
    const room = uniqueName('race');
    const alice = await member(server, room);
    const socket = await open(alice.token);
    // One frame with start and stop: tRPC handles the stop before the start has registered.
    socket.send([subscribeFrame(1, room), { id: 1, method: 'subscription.stop' }]);
    socket.send(subscribeFrame(2, room));
    await socket.until((s) => s.framesFor(2).some(isData));
    expect(socket.framesFor(2).some((frame) => frame.error)).toBe(false);
    socket.close();
  });

  it('drops a WebSocket subscriber that falls more than LIVE_MAX_QUEUED_EVENTS behind during its replay', async () => {
    const room = bigRoom;
    const alice = await member(server, room);
    const socket = await open(alice.token);
    socket.send(subscribeFrame(1, room, '0'));
    socket.pause();
    // The replay stalls on the unread socket, so live messages queue up behind it.
    const wss = server.app.server.websocketServer;
    await expect
      .poll(() => [...wss.clients].some((client) => client.bufferedAmount > (1024 * 1024) / 4), WAIT)
      .toBe(true);
    const before = server.app.deps.connections.stats().sockets;
    await postBulk(alice, room, 20, 'live');
    await expect.poll(() => server.app.deps.connections.stats().sockets, WAIT).toBe(before - 1);
    socket.close();
  }, 60_000);

  it('an SSE subscriber that stops reading is bounded: past its queue the stream ends with a retryable error', async () => {
    const room = bigRoom;
    const alice = await member(server, room);
    const head = await lastSeq(server, alice, room);
    const stream = await openSse(server.baseUrl, 'rooms.events', { room, lastEventId: '0' }, alice.token);
    expect(stream.status).toBe(200);
    await stream.until((s) => s.data().length > 0);
    stream.pause();
    // tRPC pulls the replay only as fast as the response drains: it stalls, and live messages queue.
    await postBulk(alice, room, 20, 'live');
    stream.resume();
    await stream.until((s) => s.ended, 30_000);
    const error = stream.events.find((event) => event.event === 'serialized-error');
    expect(error, JSON.stringify(stream.events.slice(-3))).toBeDefined();
    expect(JSON.parse(error?.data ?? '{}')).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' } });
    // Everything before the error arrived in order without gaps (the replay's last page may reach
    // past the head it started from): the client resumes from its last event id.
    const seqs = stream
      .data()
      .map((event) => event.data as { type: string; message?: { seq: number } })
      .flatMap((event) => (event.type === 'message' && event.message ? [event.message.seq] : []));
    expect(seqs.length).toBeGreaterThanOrEqual(head);
    expect(seqs).toEqual(range(1, seqs.length));
    await expect.poll(() => server.app.deps.connections.stats().streams, WAIT).toBe(0);
  }, 60_000);
});

describe('subscriptions per socket', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off', WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3' });
  });
  afterAll(() => server.close());

  it('refuses the fourth subscription on a socket (TOO_MANY_REQUESTS); another socket may take it', async () => {
    const rooms = range(1, 4).map(() => uniqueName('cap'));
    const alice = await member(server, rooms[0] ?? '');
    for (const room of rooms.slice(1)) await joinRoom(server.baseUrl, alice.token, room);
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    const second = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      rooms.forEach((room, index) => {
        socket.send(subscribeFrame(index + 1, room));
      });
      await socket.until((s) => s.framesFor(4).length > 0 && range(1, 3).every((id) => s.framesFor(id).some(isData)));
      const refusal = socket.framesFor(4)[0];
      expect(errorCode(refusal)).toBe('TOO_MANY_REQUESTS');
      expect(refusal?.error?.message).toMatch(/At most 3 subscriptions per connection/);
      second.send(subscribeFrame(1, rooms[3] ?? ''));
      await second.until((s) => s.framesFor(1).some(isData));
    } finally {
      socket.close();
      second.close();
    }
  });
});

describe('live connections per user and per IP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ WS_MAX_SOCKETS_PER_USER: '2', WS_MAX_SOCKETS_PER_IP: '6' });
  });
  afterAll(() => server.close());
  const sockets = () => server.app.deps.connections.stats().sockets;
  const authenticated = async (token: string) => {
    const socket = await openRawSocket(server.baseUrl, { token });
    socket.send({ id: 1, method: 'query', params: { path: 'auth.me' } });
    await socket.until((s) => s.framesFor(1).length > 0);
    return socket;
  };

  it("a user's third live connection, WebSocket or SSE, is refused with a clear error and closed (1008)", async () => {
    const room = uniqueName('users');
    const alice = await member(server, room);
    const bob = await member(server, room);
    const first = await authenticated(alice.token);
    const second = await authenticated(alice.token);
    const third = await openRawSocket(server.baseUrl, { token: alice.token });
    await third.until((s) => s.closed !== null);
    expect(third.closed?.code).toBe(1008);
    const refusal = third.frames().find((frame) => frame.id === null);
    expect(errorCode(refusal)).toBe('TOO_MANY_REQUESTS');
    expect(refusal?.error?.message).toMatch(/Too many live connections for this user \(at most 2/);

    const sse = await openSse(server.baseUrl, 'rooms.events', { room }, alice.token);
    await sse.until((s) => s.ended);
    const sseError = sse.events.find((event) => event.event === 'serialized-error');
    expect(JSON.parse(sseError?.data ?? '{}')).toMatchObject({ data: { code: 'TOO_MANY_REQUESTS' } });

    // Other users are not affected; a freed slot can be used again, and SSE streams count too.
    const bobs = await authenticated(bob.token);
    const before = sockets();
    first.close();
    await expect.poll(sockets, WAIT).toBe(before - 1);
    const stream = await openSse(server.baseUrl, 'rooms.events', { room }, alice.token);
    await stream.until((s) => s.data().length > 0);
    const fourth = await openRawSocket(server.baseUrl, { token: alice.token });
    await fourth.until((s) => s.closed !== null);
    expect(fourth.closed?.code).toBe(1008);
    stream.close();
    await expect.poll(() => server.app.deps.connections.stats().streams, WAIT).toBe(0);
    const fifth = await authenticated(alice.token);
    expect(errorCode(fifth.framesFor(1)[0])).toBeUndefined();
    for (const socket of [second, bobs, fifth]) socket.close();
    await expect.poll(sockets, WAIT).toBe(0);
  });

  it('refuses a WebSocket upgrade past the per-IP cap with 429, and accepts again once one closes', async () => {
    const wss = server.app.server.websocketServer;
    await expect.poll(() => wss.clients.size, WAIT).toBe(0);
    const open = await Promise.all(range(1, 6).map(() => openRawSocket(server.baseUrl)));
    const refused = await openRawSocket(server.baseUrl).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).status).toBe(429);
    expect(JSON.parse((refused as UpgradeRefused).body)).toMatchObject({
      error: { message: expect.stringMatching(/Too many live connections from this address \(at most 6/) },
    });
    open[0]?.close();
    await expect.poll(() => wss.clients.size, WAIT).toBe(5);
    const again = await openRawSocket(server.baseUrl);
    for (const socket of [...open, again]) socket.close();
  });
});

describe('call rate on a WebSocket', () => {
  let server: TestServer;
  beforeAll(async () => {
    // 5 calls at once, then one every 10 s: the test never waits for a refill.
    server = await startTestServer({ WS_CALL_BURST: '5', WS_CALL_RATE: '0.1' });
  });
  afterAll(() => server.close());

  it('answers calls beyond the budget with TOO_MANY_REQUESTS and keeps the socket open', async () => {
    const alice = await newUser(server.baseUrl, uniqueName('rate'));
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      for (const id of range(1, 8)) socket.send({ id, method: 'query', params: { path: 'auth.me' } });
      await socket.until((s) => range(1, 8).every((id) => s.framesFor(id).length > 0));
      const answers = range(1, 8).map((id) => socket.framesFor(id)[0]);
      expect(answers.slice(0, 5).every((frame) => frame?.result?.type === 'data')).toBe(true);
      for (const frame of answers.slice(5)) {
        expect(errorCode(frame)).toBe('TOO_MANY_REQUESTS');
        expect(frame?.error?.message).toMatch(/Too many calls on this connection \(at most 5 at once/);
      }
      expect(socket.closed).toBeNull();
      // HTTP is a separate budget.
      expect((await rest(server.baseUrl, 'GET', '/auth/me', { token: alice.token })).status).toBe(200);
    } finally {
      socket.close();
    }
  });

  it('closes a socket that floods far beyond it, junk frames included (1008)', async () => {
    const socket = await openRawSocket(server.baseUrl);
    // 30 x the burst of 5: 150 frames; junk never reaches a procedure but counts all the same.
    for (let index = 0; index < 400; index += 1) socket.sendText('not json');
    await socket.until((s) => s.closed !== null);
    expect(socket.closed).toEqual({ code: 1008, reason: 'too many messages' });
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });
});

describe('auth calls in a WebSocket batch', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers a burst of 1,000 single-call frames call by call, with the default budget, without closing', async () => {
    const alice = await newUser(server.baseUrl, uniqueName('burst'));
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      const started = performance.now();
      for (const id of range(1, 1000)) socket.send({ id, method: 'query', params: { path: 'auth.me' } });
      await socket.until((s) => s.frames().filter((frame) => typeof frame.id === 'number').length === 1000, 30_000);
      const seconds = (performance.now() - started) / 1000;
      const answered = socket.frames();
      const ran = answered.filter((frame) => frame.result?.type === 'data').length;
      // 100 at once, plus the refill (20 per second) while the burst was being handled.
      expect(ran).toBeGreaterThanOrEqual(100);
      expect(ran).toBeLessThanOrEqual(100 + Math.ceil(20 * seconds) + 1);
      expect(answered.filter((frame) => errorCode(frame) === 'TOO_MANY_REQUESTS')).toHaveLength(1000 - ran);
      expect(socket.closed).toBeNull();
    } finally {
      socket.close();
    }
  });

  it('refuses auth.* inside a batch frame without running it, runs the rest, and accepts auth alone', async () => {
    const alice = await newUser(server.baseUrl, uniqueName('batch'));
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      const signIn = (id: number) => ({
        id,
        method: 'mutation',
        params: { path: 'auth.signIn', input: { username: alice.username, password: alice.password } },
      });
      socket.send([signIn(1), { id: 2, method: 'query', params: { path: 'stats.rooms' } }, signIn(3)]);
      await socket.until((s) => [1, 2, 3].every((id) => s.framesFor(id).length > 0));
      for (const id of [1, 3]) {
        const frame = socket.framesFor(id)[0];
        expect(errorCode(frame)).toBe('BAD_REQUEST');
        expect(frame?.error?.message).toBe('auth.signIn cannot be sent in a batch: send it in a message of its own');
      }
      expect(socket.framesFor(2)[0]?.result?.type).toBe('data');

      socket.send(signIn(4));
      await socket.until((s) => s.framesFor(4).length > 0);
      const token = (socket.framesFor(4)[0]?.result?.data as { token?: string } | undefined)?.token;
      expect(typeof token).toBe('string');
    } finally {
      socket.close();
    }
  });
});

describe('a socket does not outlive its session', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const postFrame = (id: number, room: string, text: string) => ({
    id,
    method: 'mutation',
    params: { path: 'messages.post', input: { room, text } },
  });

  it('signing out over HTTP closes that session’s sockets (4401): no more posts, no more room events', async () => {
    const room = uniqueName('signout');
    const alice = await member(server, room);
    const bob = await member(server, room);
    const other = await rest<{ token: string }>(server.baseUrl, 'POST', '/auth/sign-in', {
      body: { username: alice.username, password: alice.password },
    });
    const signedOut = await openRawSocket(server.baseUrl, { token: alice.token });
    const otherSession = await openRawSocket(server.baseUrl, { token: other.body.token });
    try {
      for (const socket of [signedOut, otherSession]) {
        socket.send(subscribeFrame(1, room));
        await socket.until((s) => s.framesFor(1).some(isData));
      }
      expect((await rest(server.baseUrl, 'POST', '/auth/sign-out', { token: alice.token, body: {} })).status).toBe(200);
      // Sent the moment sign-out answered: refused, or the socket is already closed; never posted.
      signedOut.send(postFrame(2, room, 'after sign-out'));
      await signedOut.until((s) => s.closed !== null);
      expect(signedOut.closed).toEqual({ code: 4401, reason: 'session ended' });
      const answer = signedOut.framesFor(2)[0];
      if (answer) expect(errorCode(answer)).toBe('UNAUTHORIZED');

      await trpcClient(server.baseUrl, bob.token).messages.post.mutate({ room, text: 'from bob' });
      await otherSession.until((s) => s.raw.some((text) => text.includes('from bob')));
      expect(signedOut.raw.some((text) => text.includes('from bob'))).toBe(false);
      const history = await rest<{ messages: Array<{ text: string }> }>(
        server.baseUrl,
        'GET',
        `/rooms/${room}/messages`,
        { token: bob.token },
      );
      expect(history.body.messages.map((message) => message.text)).toEqual(['from bob']);
      expect(otherSession.closed).toBeNull();
    } finally {
      signedOut.close();
      otherSession.close();
    }
  });

  it('signing out ends the session’s SSE streams too', async () => {
    const room = uniqueName('ssesignout');
    const alice = await member(server, room);
    const stream = await openSse(server.baseUrl, 'rooms.events', { room }, alice.token);
    await stream.until((s) => s.data().length > 0);
    expect((await rest(server.baseUrl, 'POST', '/auth/sign-out', { token: alice.token, body: {} })).status).toBe(200);
    await stream.until((s) => s.ended);
    const error = stream.events.find((event) => event.event === 'serialized-error');
    expect(JSON.parse(error?.data ?? '{}')).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await expect.poll(() => server.app.deps.connections.stats().streams, WAIT).toBe(0);
  });

  it('signing out over the socket itself answers first, then closes it', async () => {
    const alice = await newUser(server.baseUrl, uniqueName('selfout'));
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    socket.send({ id: 1, method: 'mutation', params: { path: 'auth.signOut' } });
    await socket.until((s) => s.closed !== null);
    expect(socket.framesFor(1)[0]?.result?.data).toEqual({ ok: true });
    expect(socket.closed?.code).toBe(4401);
    expect((await rest(server.baseUrl, 'GET', '/auth/me', { token: alice.token })).status).toBe(401);
  });

  it('re-checks the session on each call: once it expired, a call is refused and the socket closes', async () => {
    const room = uniqueName('expired');
    const alice = await member(server, room);
    const socket = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      socket.send(postFrame(1, room, 'while valid'));
      await socket.until((s) => s.framesFor(1).length > 0);
      expect(socket.framesFor(1)[0]?.result?.type).toBe('data');
      // Expire every session behind the server's back, as time would (housekeeping runs every 10 min).
      await server.expireSessions();
      socket.send(postFrame(2, room, 'after expiry'));
      await socket.until((s) => s.closed !== null);
      expect(errorCode(socket.framesFor(2)[0])).toBe('UNAUTHORIZED');
      expect(socket.closed?.code).toBe(4401);
    } finally {
      socket.close();
    }
  });
});

describe('a live follower through the typed client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
  });
  afterAll(() => server.close());

  it('sees CONFLICT for a second rooms.events of one room on its connection', async () => {
    const room = uniqueName('typed');
    const alice = await member(server, room);
    const live = wsTrpcClient(server.baseUrl, { token: alice.token });
    try {
      const first = follow(live, room);
      await first.until((f) => f.presence.length > 0);
      const second = follow(live, room);
      await second.until((f) => f.errors.length > 0);
      expect((second.errors[0] as { data?: { code?: string } }).data?.code).toBe('CONFLICT');
    } finally {
      live.close();
    }
  });
});

describe('live limits configuration', () => {
  it('has the documented defaults', () => {
    expect(parseConfig({})).toMatchObject({
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: 50,
      WS_MAX_SOCKETS_PER_USER: 20,
      WS_MAX_SOCKETS_PER_IP: 200,
      WS_MAX_BUFFERED_BYTES: 1024 * 1024,
      WS_CALL_RATE: 20,
      WS_CALL_BURST: 100,
      LIVE_MAX_QUEUED_EVENTS: 1000,
    });
  });

  it('refuses values that would disable a limit, naming each field', () => {
    const bad = { WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '0', WS_MAX_BUFFERED_BYTES: '1000', WS_CALL_RATE: '-1' };
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    try {
      parseConfig(bad);
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      for (const field of Object.keys(bad)) expect(problems).toContain(field);
    }
  });
});
