import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, uniqueName, wsTrpcClient } from './support/clients.ts';
import { joinRoom, newUser, ok, postMany, trpcFailure } from './support/fixtures.ts';
import { follow } from './support/live.ts';
import { parseMetrics, type Scrape, scrape } from './support/metrics.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const HTTP = 'atlas_chat_http_request_duration_seconds_count';
const CALLS = 'atlas_chat_trpc_calls_total';
const ERRORS = 'atlas_chat_trpc_errors_total';
const POSTED = 'atlas_chat_messages_posted_total';
const DELIVERED = 'atlas_chat_live_deliveries_total';
const BATCH_SUM = 'atlas_chat_group_commit_batch_size_sum';
const BATCH_COUNT = 'atlas_chat_group_commit_batch_size_count';
const COMMIT_COUNT = 'atlas_chat_group_commit_duration_seconds_count';
const SOCKETS = 'atlas_chat_websockets_open';
const SUBSCRIPTIONS = 'atlas_chat_subscriptions_active';

/** How much a series grew between two scrapes. */
const delta = (before: Scrape, after: Scrape, name: string, labels?: Record<string, string>) =>
  after.value(name, labels) - before.value(name, labels);

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('serves the Prometheus text format with the process metrics, without cookies or a rate limit', async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.getSetCookie()).toEqual([]);
    // @fastify/rate-limit marks every request it counts with these headers; user routes have them.
    expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    expect((await rest(server.baseUrl, 'GET', '/openapi.json')).headers.get('x-ratelimit-limit')).not.toBeNull();

    const metrics = parseMetrics(await response.text());
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'atlas_chat_group_commit_batch_size_count',
      SOCKETS,
      SUBSCRIPTIONS,
      POSTED,
    ]) {
      expect(metrics.has(name), name).toBe(true);
    }
  });

  it('counts posts, deliveries, calls and errors by exactly the work done between two scrapes', async () => {
    const room = uniqueName('room');
    const alice = await newUser(server.baseUrl);
    const bob = await newUser(server.baseUrl);
    await joinRoom(server.baseUrl, alice.token, room);
    await joinRoom(server.baseUrl, bob.token, room);
    const live = wsTrpcClient(server.baseUrl, { token: bob.token });
    const follower = follow(live, room);
    await follower.until((f) => f.presence.length > 0);

    const before = await scrape(server.baseUrl);
    expect(before.value(SOCKETS)).toBe(1);
    expect(before.value(SUBSCRIPTIONS)).toBe(1);

    // 5 posts over REST, one retried with its clientId (answered, not stored again), 5 over tRPC.
    await postMany(server.baseUrl, alice.token, room, 4);
    const retry = { token: alice.token, body: { text: 'once', clientId: 'metrics-retry-1' } };
    ok(await rest(server.baseUrl, 'POST', `/rooms/${room}/messages`, retry));
    ok(await rest(server.baseUrl, 'POST', `/rooms/${room}/messages`, retry));
    for (let index = 0; index < 5; index += 1) await alice.trpc.messages.post.mutate({ room, text: `t${index}` });
    await follower.until((f) => f.messages.length === 10);

    // Failing calls on each transport.
    const elsewhere = uniqueName('room');
    await joinRoom(server.baseUrl, bob.token, elsewhere);
    for (let index = 0; index < 2; index += 1) {
      const refused = await rest(server.baseUrl, 'POST', `/rooms/${elsewhere}/messages`, {
        token: alice.token,
        body: { text: 'not a member' },
      });
      expect(refused.status).toBe(403);
    }
    expect((await trpcFailure(alice.trpc.messages.post.mutate({ room, text: '   ' }))).status).toBe(400);
    expect((await trpcFailure(live.client.messages.post.mutate({ room: `${elsewhere}x`, text: 'hi' }))).status).toBe(
      404,
    );
    expect((await rest(server.baseUrl, 'GET', '/rooms')).status).toBe(401);
    expect((await rest(server.baseUrl, 'GET', `/no-such-endpoint/${room}`)).status).toBe(404);

    // Deliveries on the stream path are counted as the generator resumes after the send: poll.
    await expect.poll(async () => delta(before, await scrape(server.baseUrl), DELIVERED), { timeout: 5000 }).toBe(10);
    const after = await scrape(server.baseUrl);

    expect(delta(before, after, POSTED)).toBe(10);
    // The retry went through a group commit too (it finds the stored message): 11 posts written.
    expect(delta(before, after, BATCH_SUM)).toBe(11);
    const batches = delta(before, after, BATCH_COUNT);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(11);
    expect(delta(before, after, COMMIT_COUNT)).toBe(batches);

    const post = (transport: string) => ({ procedure: 'messages.post', transport });
    expect(delta(before, after, CALLS, post('rest'))).toBe(4 + 2 + 2);
    expect(delta(before, after, CALLS, post('trpc-http'))).toBe(5 + 1);
    expect(delta(before, after, CALLS, post('trpc-ws'))).toBe(1);
    expect(delta(before, after, ERRORS, { ...post('rest'), code: 'FORBIDDEN' })).toBe(2);
    expect(delta(before, after, ERRORS, { ...post('trpc-http'), code: 'BAD_REQUEST' })).toBe(1);
    expect(delta(before, after, ERRORS, { ...post('trpc-ws'), code: 'NOT_FOUND' })).toBe(1);
    expect(delta(before, after, ERRORS, { procedure: 'rooms.list', transport: 'rest', code: 'UNAUTHORIZED' })).toBe(1);
    expect(delta(before, after, ERRORS, post('rest'))).toBe(2);
    expect(delta(before, after, ERRORS, post('trpc-http'))).toBe(1);

    const restPost = { method: 'POST', route: '/api/rooms/:room/messages' };
    expect(delta(before, after, HTTP, { ...restPost, status: '200' })).toBe(6);
    expect(delta(before, after, HTTP, { ...restPost, status: '403' })).toBe(2);
    expect(delta(before, after, HTTP, { method: 'POST', route: '/api/trpc/:path', status: '200' })).toBe(5);
    expect(delta(before, after, HTTP, { method: 'POST', route: '/api/trpc/:path', status: '400' })).toBe(1);
    expect(delta(before, after, HTTP, { method: 'GET', route: '/api/rooms', status: '401' })).toBe(1);
    expect(delta(before, after, HTTP, { method: 'GET', route: '(no route)', status: '404' })).toBe(1);

    live.close();
    await expect
      .poll(async () => {
        const metrics = await scrape(server.baseUrl);
        return [metrics.value(SOCKETS), metrics.value(SUBSCRIPTIONS)];
      })
      .toEqual([0, 0]);
  });

  it('counts a catch-up replay as deliveries on the stream path, live messages on the broadcast path', async () => {
    const user = await newUser(server.baseUrl);
    const room = uniqueName('replay');
    await joinRoom(server.baseUrl, user.token, room);
    await postMany(server.baseUrl, user.token, room, 7);
    const before = await scrape(server.baseUrl);
    const live = wsTrpcClient(server.baseUrl, { token: user.token });
    const follower = follow(live, room, '0');
    await follower.until((f) => f.messages.length === 7 && f.presence.length > 0);
    await postMany(server.baseUrl, user.token, room, 3);
    await follower.until((f) => f.messages.length === 10);
    await expect
      .poll(async () => delta(before, await scrape(server.baseUrl), DELIVERED, { path: 'stream' }))
      .toBeGreaterThanOrEqual(7);
    const after = await scrape(server.baseUrl);
    // Every live message went one way or the other (the hand-over to the broadcaster happens once
    // the subscriber has caught up), never both.
    expect(delta(before, after, DELIVERED)).toBe(10);
    live.close();
    await expect.poll(async () => (await scrape(server.baseUrl)).value(SUBSCRIPTIONS)).toBe(0);
  });

  it('labels routes by template: no room names, no unknown paths, no scrapes, no WebSocket sessions', async () => {
    const user = await newUser(server.baseUrl);
    const room = uniqueName('cardinality');
    await joinRoom(server.baseUrl, user.token, room);
    await postMany(server.baseUrl, user.token, room, 1);
    await rest(server.baseUrl, 'GET', `/rooms/${room}/messages?limit=5`, { token: user.token });
    await rest(server.baseUrl, 'GET', `/stats/users/${user.username}`, { token: user.token });
    for (const path of [`/${room}`, `/api/${room}/x`, `/assets/${room}.js`]) await fetch(`${server.baseUrl}${path}`);
    const live = wsTrpcClient(server.baseUrl, { token: user.token });
    await follow(live, room).until((f) => f.presence.length > 0);
    live.close();
    // The same subscription over Server-Sent Events: a stream, not a request with a latency.
    const sse = new AbortController();
    const stream = await fetch(
      `${server.baseUrl}/api/trpc/rooms.events?input=${encodeURIComponent(`{"room":"${room}"}`)}`,
      {
        headers: { authorization: `Bearer ${user.token}` },
        signal: sse.signal,
      },
    );
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body?.getReader().read();
    expect((await scrape(server.baseUrl)).value(SUBSCRIPTIONS)).toBe(1);
    sse.abort();
    await expect
      .poll(async () => {
        const metrics = await scrape(server.baseUrl);
        return [metrics.value(SOCKETS), metrics.value(SUBSCRIPTIONS)];
      })
      .toEqual([0, 0]);

    const routes = new Set(
      (await scrape(server.baseUrl)).samples.filter((s) => s.name === HTTP).map((s) => s.labels.route),
    );
    expect(routes).toContain('/api/rooms/:room/messages');
    expect(routes).toContain('/api/stats/users/:username');
    expect(routes).toContain('(no route)');
    for (const route of routes) {
      expect(route).not.toContain(room);
      expect(route).not.toContain(user.username);
      expect(route).not.toBe('/metrics');
    }
    // Neither the upgrade that opened the socket nor the event stream shows up as a request with a
    // duration (which would swamp the route's latencies).
    expect(routes).not.toContain('/api/trpc');
    const samples = (await scrape(server.baseUrl)).samples;
    const sseRequests = samples.filter(
      (s) => s.name === HTTP && s.labels.method === 'GET' && s.labels.route === '/api/trpc/:path',
    );
    expect(sseRequests).toEqual([]);
  });
});

describe('METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789abcdef';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ METRICS_TOKEN: token });
  });
  afterAll(() => server.close());

  it('requires the bearer token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }] as Record<
      string,
      string
    >[]) {
      const response = await fetch(`${server.baseUrl}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('Bearer') });
    }
    const metrics = await scrape(server.baseUrl, token);
    expect(metrics.has(POSTED)).toBe(true);
  });
});

describe('METRICS=off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ METRICS: 'off' });
  });
  afterAll(() => server.close());

  it('answers 404 at /metrics (not the web app) and the server works as before', async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('METRICS=off') });
    const user = await newUser(server.baseUrl);
    const room = uniqueName('room');
    await joinRoom(server.baseUrl, user.token, room);
    expect((await postMany(server.baseUrl, user.token, room, 2)).map((m) => m.seq)).toEqual([1, 2]);
  });
});
