import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { rest, signUp, trpcClient, uniqueName, wsTrpcClient } from './support/clients.ts';
import { type Follower, follow, range, seqs } from './support/live.ts';
import { scrape } from './support/metrics.ts';
import { startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
const opened: Array<{ close(): void }> = [];

function connect(token: string, options: { headers?: Record<string, string> } = {}) {
  const live = wsTrpcClient(server.baseUrl, { token, ...options });
  opened.push(live);
  return live;
}

async function member(room: string) {
  const user = await signUp(server.baseUrl, uniqueName('live'));
  await trpcClient(server.baseUrl, user.token).rooms.join.mutate({ room });
  return user;
}

async function post(token: string, room: string, text: string, clientId?: string) {
  return (await trpcClient(server.baseUrl, token).messages.post.mutate({ room, text, clientId })).message;
}

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMITS: 'off' });
});
afterEach(() => {
  for (const live of opened.splice(0)) live.close();
});
afterAll(() => server.close());

describe('rooms.events over one WebSocket', () => {
  it('delivers each new message once, in order, to every subscriber', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const bob = await member(room);
    const followers = [
      follow(connect(alice.token), room),
      follow(connect(bob.token), room),
      follow(connect(bob.token), room),
    ];
    await Promise.all(followers.map((f) => f.until((x) => x.presence.length > 0)));

    for (let index = 1; index <= 20; index += 1) await post(index % 2 ? alice.token : bob.token, room, `m${index}`);
    for (const follower of followers) {
      await follower.until((f) => f.messages.length >= 20);
      expect(seqs(follower)).toEqual(range(1, 20));
      expect(follower.messages.map((m) => m.text)).toEqual(range(1, 20).map((n) => `m${n}`));
      // Ids are opaque (decision 019): `c<change>`; in a room with only posts, change n is seq n.
      expect(follower.ids.at(-1)).toBe('c20');
    }
  });

  it('hands caught-up subscribers to the broadcaster, which keeps order and exactly-once delivery', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const live = connect(alice.token);
    const a = follow(live, room, '0');
    const b = follow(connect(alice.token), room);
    await Promise.all([a, b].map((f) => f.until((x) => x.presence.length > 0)));
    await post(alice.token, room, 'first');
    await a.until((f) => f.messages.length === 1);
    await b.until((f) => f.messages.length === 1);
    expect(server.app.deps.broadcaster.subscriberCount(room)).toBe(2);
    for (let index = 2; index <= 30; index += 1) await post(alice.token, room, `m${index}`);
    await a.until((f) => f.messages.length === 30);
    await b.until((f) => f.messages.length === 30);
    expect(seqs(a)).toEqual(range(1, 30));
    expect(seqs(b)).toEqual(range(1, 30));
    expect(a.ids.at(-1)).toBe('c30');
    a.unsubscribe();
    await sleep(100);
    expect(server.app.deps.broadcaster.subscriberCount(room)).toBe(1);
  });

  it('carries several subscriptions on a single connection', async () => {
    const roomA = uniqueName('room');
    const roomB = uniqueName('room');
    const user = await member(roomA);
    await trpcClient(server.baseUrl, user.token).rooms.join.mutate({ room: roomB });
    const before = server.app.server.websocketServer.clients.size;
    const live = connect(user.token);
    const a = follow(live, roomA);
    const b = follow(live, roomB);
    await Promise.all([a, b].map((f) => f.until((x) => x.presence.length > 0)));
    expect(server.app.server.websocketServer.clients.size - before).toBe(1);
    await post(user.token, roomA, 'to a');
    await post(user.token, roomB, 'to b');
    await a.until((f) => f.messages.length === 1);
    await b.until((f) => f.messages.length === 1);
    expect(a.messages[0]?.text).toBe('to a');
    expect(b.messages[0]?.text).toBe('to b');
  });

  it('resumes after a disconnect with exactly the missed messages', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const first = follow(connect(alice.token), room);
    await first.until((f) => f.presence.length > 0);
    for (let index = 1; index <= 5; index += 1) await post(alice.token, room, `before ${index}`);
    await first.until((f) => f.messages.length === 5);
    first.unsubscribe();

    for (let index = 6; index <= 12; index += 1) await post(alice.token, room, `missed ${index}`);
    const resumed = follow(connect(alice.token), room, first.ids.at(-1));
    await resumed.until((f) => f.messages.length === 7);
    await post(alice.token, room, 'live 13');
    await resumed.until((f) => f.messages.length === 8);
    expect(seqs(resumed)).toEqual(range(6, 13));
  });

  it('the client resumes by itself when the connection drops (server-side terminate)', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const live = connect(alice.token);
    const follower = follow(live, room, '0');
    await follower.until((f) => f.presence.length > 0);
    await post(alice.token, room, 'one');
    await follower.until((f) => f.messages.length === 1);
    for (const client of server.app.server.websocketServer.clients) client.terminate();
    await post(alice.token, room, 'two while down');
    await post(alice.token, room, 'three while down');
    await follower.until((f) => f.messages.length >= 3);
    await post(alice.token, room, 'four');
    await follower.until((f) => f.messages.length >= 4);
    await sleep(100);
    expect(seqs(follower)).toEqual([1, 2, 3, 4]);
    expect(live.events.opens).toBeGreaterThanOrEqual(2);
  });

  it('survives random reconnects while several users post: no gaps, no duplicates, in order', async () => {
    const room = uniqueName('churn');
    const posters = await Promise.all(range(1, 4).map(() => member(room)));
    const watchers = await Promise.all(range(1, 5).map(() => member(room)));
    const perPoster = 100;
    const total = posters.length * perPoster;

    // Each subscriber is a separate connection that starts from the beginning of the room.
    const subscribers = watchers
      .flatMap((watcher) => [watcher, watcher])
      .map((watcher) => ({
        watcher,
        live: connect(watcher.token),
        follower: undefined as Follower | undefined,
        received: [] as number[],
      }));
    for (const subscriber of subscribers) subscriber.follower = follow(subscriber.live, room, '0');

    let reconnects = 0;
    let churning = true;
    const churn = (async () => {
      while (churning) {
        await sleep(10 + Math.random() * 30);
        const clients = [...server.app.server.websocketServer.clients];
        const victim = clients[Math.floor(Math.random() * clients.length)];
        if (Math.random() < 0.5) {
          victim?.terminate(); // a dropped network: the client reconnects and resumes by itself
        } else {
          // an explicit resubscribe with the last id the client holds
          const subscriber = subscribers[Math.floor(Math.random() * subscribers.length)];
          if (subscriber?.follower) {
            subscriber.follower.unsubscribe();
            subscriber.received.push(...seqs(subscriber.follower));
            subscriber.follower = follow(
              subscriber.live,
              room,
              subscriber.follower.ids.at(-1) ?? String(subscriber.received.at(-1) ?? 0),
            );
          }
        }
        reconnects += 1;
      }
    })();

    await Promise.all(
      posters.map(async (poster, index) => {
        for (let n = 1; n <= perPoster; n += 1) {
          await post(poster.token, room, `p${index}-${n}`, `p${index}-${n}`);
          if (Math.random() < 0.3) await sleep(Math.random() * 15);
        }
      }),
    );
    churning = false;
    await churn;

    for (const subscriber of subscribers) {
      const current = subscriber.follower;
      if (!current) throw new Error('subscriber never subscribed');
      const missing = () => total - (subscriber.received.length + current.messages.length);
      await current.until(() => missing() <= 0, 20_000);
      const all = [...subscriber.received, ...seqs(current)];
      if (process.env.DEBUG_CHURN) {
        const dupAt = all.findIndex((seq, i) => i > 0 && seq <= (all[i - 1] ?? 0));
        console.info(
          'DEBUG',
          subscribers.indexOf(subscriber),
          all.length,
          subscriber.received.length,
          dupAt,
          all.slice(Math.max(0, dupAt - 3), dupAt + 5).join(','),
          current.ids.slice(0, 5).join(','),
        );
      }
      expect(all).toEqual(range(1, total));
    }
    expect(reconnects).toBeGreaterThan(20);
    console.info(`churn: ${subscribers.length} subscribers, ${reconnects} reconnects, ${total} messages`);
  }, 60_000);

  it('sends reset when asked to resume from more than 1000 messages back, then continues live', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const client = trpcClient(server.baseUrl, alice.token);
    for (let batch = 0; batch < 11; batch += 1) {
      await Promise.all(range(1, 100).map((n) => client.messages.post.mutate({ room, text: `bulk ${batch}-${n}` })));
    }
    const resumed = follow(connect(alice.token), room, '50');
    await resumed.until((f) => f.resets === 1 && f.presence.length > 0);
    expect(resumed.messages).toEqual([]);
    await post(alice.token, room, 'after reset');
    await resumed.until((f) => f.messages.length === 1);
    expect(seqs(resumed)).toEqual([1101]);

    const near = follow(connect(alice.token), room, '101');
    await near.until((f) => f.messages.length === 1000);
    expect(near.resets).toBe(0);
    expect(seqs(near)).toEqual(range(102, 1101));

    const future = follow(connect(alice.token), room, '999999');
    await future.until((f) => f.resets === 1);
    const garbage = follow(connect(alice.token), room, 'not-a-seq');
    await garbage.until((f) => f.resets === 1);
  }, 60_000);

  it('an idempotent retry with the same clientId is delivered once', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const follower = follow(connect(alice.token), room);
    await follower.until((f) => f.presence.length > 0);
    const first = await post(alice.token, room, 'only once', 'retry-1');
    const again = await post(alice.token, room, 'only once', 'retry-1');
    expect(again.id).toBe(first.id);
    await post(alice.token, room, 'next');
    await follower.until((f) => f.messages.length >= 2);
    await sleep(100);
    expect(follower.messages.map((m) => m.text)).toEqual(['only once', 'next']);
  });
});

describe('presence and typing', () => {
  it('a user is online while any of their tabs subscribes, and offline once the last closes', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const bob = await member(room);
    const observer = follow(connect(bob.token), room);
    await observer.until((f) => f.presence.at(-1)?.includes(bob.username) === true);

    const tabs = range(1, 3).map(() => connect(alice.token));
    const followers = tabs.map((tab) => follow(tab, room));
    await observer.until((f) => f.presence.at(-1)?.includes(alice.username) === true);
    const users = async () =>
      (await trpcClient(server.baseUrl, bob.token).rooms.members.query({ room })).users.find(
        (u) => u.username === alice.username,
      );
    expect((await users())?.online).toBe(true);
    const viaRest = await rest<{ users: Array<{ username: string; online: boolean }> }>(
      server.baseUrl,
      'GET',
      `/rooms/${room}/users`,
      { token: bob.token },
    );
    expect(viaRest.body.users[0]).toMatchObject({ online: true });

    tabs[0]?.close();
    followers[1]?.unsubscribe();
    await sleep(200);
    expect((await users())?.online).toBe(true);
    tabs[2]?.close();
    await observer.until((f) => f.presence.at(-1)?.includes(alice.username) === false, 5000);
    expect((await users())?.online).toBe(false);
  });

  it('typing appears for others and expires after about 5 seconds', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const bob = await member(room);
    const observer = follow(connect(bob.token), room);
    await observer.until((f) => f.presence.length > 0);
    const started = Date.now();
    await trpcClient(server.baseUrl, alice.token).rooms.typing.mutate({ room });
    await trpcClient(server.baseUrl, alice.token).rooms.typing.mutate({ room });
    await observer.until((f) => f.typing.at(-1)?.includes(alice.username) === true);
    await observer.until((f) => f.typing.at(-1)?.length === 0, 8000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(observer.typing.filter((list) => list.includes(alice.username))).toHaveLength(1);
  });

  it('posting clears the author from typing at once', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const observer = follow(connect(alice.token), room);
    await observer.until((f) => f.presence.length > 0);
    await trpcClient(server.baseUrl, alice.token).rooms.typing.mutate({ room });
    await observer.until((f) => f.typing.at(-1)?.includes(alice.username) === true);
    await post(alice.token, room, 'done typing');
    await observer.until((f) => f.typing.at(-1)?.length === 0, 1000);
  });
});

describe('WebSocket security and limits', () => {
  it('a subscription without a valid session fails with UNAUTHORIZED', async () => {
    const room = uniqueName('room');
    await member(room);
    const anonymous = wsTrpcClient(server.baseUrl);
    opened.push(anonymous);
    const follower = follow(anonymous, room);
    await follower.until((f) => f.errors.length > 0);
    expect(String((follower.errors[0] as { data?: { code?: string } }).data?.code)).toBe('UNAUTHORIZED');
  });

  it('a non-member cannot follow a room (FORBIDDEN)', async () => {
    const room = uniqueName('room');
    await member(room);
    const outsider = await signUp(server.baseUrl, uniqueName('out'));
    const follower = follow(connect(outsider.token), room);
    await follower.until((f) => f.errors.length > 0);
    expect(String((follower.errors[0] as { data?: { code?: string } }).data?.code)).toBe('FORBIDDEN');
  });

  it('authenticates a browser-style connection by its session cookie', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const live = wsTrpcClient(server.baseUrl, {
      headers: { cookie: `atlas_session=${alice.token}`, origin: server.baseUrl },
    });
    opened.push(live);
    const follower = follow(live, room);
    await follower.until((f) => f.presence.at(-1)?.includes(alice.username) === true);
  });

  it('refuses an upgrade from a foreign Origin', async () => {
    const alice = await signUp(server.baseUrl, uniqueName('live'));
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/api/trpc`, {
        headers: { origin: 'https://evil.example', cookie: `atlas_session=${alice.token}` },
      });
      socket.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      socket.on('open', () => reject(new Error('upgrade was accepted')));
      socket.on('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('closes a connection that sends a frame over 64 KiB, and stays healthy', async () => {
    const code = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/api/trpc`);
      socket.on('open', () => socket.send('x'.repeat(64 * 1024 + 1)));
      socket.on('close', (closeCode) => resolve(closeCode));
      socket.on('error', () => {});
    });
    expect(code).toBe(1009);
    const health = await fetch(`${server.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const room = uniqueName('room');
    const alice = await member(room);
    const follower = follow(connect(alice.token), room);
    await follower.until((f) => f.presence.length > 0);
  });

  it('drops a subscriber that does not read, without holding up the others', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const healthy = follow(connect(alice.token), room);
    await healthy.until((f) => f.presence.length > 0);

    // A raw client that subscribes and then stops reading from its socket.
    const stalled = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/api/trpc?connectionParams=1`);
    await new Promise<void>((resolve) => stalled.on('open', () => resolve()));
    stalled.send(JSON.stringify({ method: 'connectionParams', data: { token: alice.token } }));
    stalled.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'rooms.events', input: { room } } }));
    await sleep(200);
    const rawSocket = (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    rawSocket.pause();
    let closed = false;
    stalled.on('close', () => {
      closed = true;
    });

    // Enough to fill the kernel's socket buffers on loopback (several MiB) and then 1 MiB more.
    const text = 'y'.repeat(4000);
    const client = trpcClient(server.baseUrl, alice.token);
    const total = 3000;
    const droppedBefore = (await scrape(server.baseUrl)).value('atlas_chat_live_slow_consumers_dropped_total');
    for (let batch = 0; batch < total / 100; batch += 1) {
      await Promise.all(range(1, 100).map(() => client.messages.post.mutate({ room, text })));
    }
    await healthy.until((f) => f.messages.length === total, 30_000);
    const serverSide = [...server.app.server.websocketServer.clients];
    await sleep(200);
    expect(serverSide.length).toBeGreaterThan(0);
    // The stalled connection was terminated by the server (its buffer passed 1 MiB).
    rawSocket.resume();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(closed).toBe(true);
    const dropped = (await scrape(server.baseUrl)).value('atlas_chat_live_slow_consumers_dropped_total');
    expect(dropped - droppedBefore).toBe(1);
  }, 60_000);
});

describe('graceful restart', () => {
  it('finishes shutting down while clients try to reconnect at once', async () => {
    const other = await startTestServer({ RATE_LIMITS: 'off' });
    const user = await signUp(other.baseUrl, uniqueName('live'));
    const room = uniqueName('room');
    await trpcClient(other.baseUrl, user.token).rooms.join.mutate({ room });
    const eager = wsTrpcClient(other.baseUrl, { token: user.token, retryDelayMs: 0 });
    opened.push(eager);
    const follower = follow(eager, room);
    await follower.until((f) => f.presence.length > 0);

    const closing = other.close();
    const url = `${other.baseUrl.replace('http', 'ws')}/api/trpc`;
    for (let attempt = 0; attempt < 20; attempt += 1) new WebSocket(url).on('error', () => {});
    const outcome = await Promise.race([
      closing.then(() => 'closed'),
      sleep(10_000).then(() => 'still closing after 10 s'),
    ]);
    expect(outcome).toBe('closed');
  }, 20_000);

  it('tells clients to reconnect; they resume on the restarted server without gaps or duplicates', async () => {
    const room = uniqueName('room');
    const alice = await member(room);
    const live = connect(alice.token);
    const follower = follow(live, room, '0');
    await post(alice.token, room, 'before restart');
    await follower.until((f) => f.messages.length === 1);
    server = await server.restart();
    await post(alice.token, room, 'after restart');
    await follower.until((f) => f.messages.length === 2, 15_000);
    await sleep(100);
    expect(seqs(follower)).toEqual([1, 2]);
  }, 30_000);
});
