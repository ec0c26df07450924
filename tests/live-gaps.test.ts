import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, uniqueName, wsTrpcClient } from './support/clients.ts';
import { joinRoom } from './support/fixtures.ts';
import { follow, range, seqs } from './support/live.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * A bus that loses or reorders messages (Redis pub/sub may do both) must never cost a subscriber
 * its socket: the broadcaster's fast path hands the subscriber back to its own stream, which reads
 * the gap from the database. Simulated here by storing messages behind the bus's back and
 * publishing only the last one.
 */
describe('a gap on the live fast path', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
  });
  afterAll(() => server.close());

  it('is filled from the database, in order, without closing the socket; late events are dropped', async () => {
    const room = uniqueName('gap');
    const alice = await signUp(server.baseUrl);
    await joinRoom(server.baseUrl, alice.token, room);
    const live = wsTrpcClient(server.baseUrl, { token: alice.token });
    try {
      const follower = follow(live, room, '0');
      await follower.until((f) => f.presence.length > 0);
      const { deps } = server.app;
      // A first message the usual way puts the subscriber on the fast path.
      await live.client.messages.post.mutate({ room, text: 'first' });
      await follower.until((f) => f.messages.length === 1);
      await expect.poll(() => deps.broadcaster.subscriberCount(room)).toBe(1);

      // Three messages stored without a word on the bus; then only the third is published.
      const row = await deps.store.rooms.find(room);
      if (!row) throw new Error('no room');
      const stored = [];
      for (const n of range(1, 3)) {
        const result = await deps.store.messages.insertOne({
          room: row,
          author: { id: 1, username: alice.username },
          text: `behind the bus ${n}`,
          clientId: null,
          now: new Date(),
        });
        if (result.kind !== 'inserted') throw new Error(result.kind);
        stored.push({ type: 'message' as const, message: result.message, change: result.change });
      }
      deps.bus.publish(room, stored[2] as (typeof stored)[number]);
      await follower.until((f) => f.messages.length >= 4);
      expect(seqs(follower)).toEqual([1, 2, 3, 4]);

      // Late and repeated events change nothing.
      deps.bus.publish(room, stored[0] as (typeof stored)[number]);
      deps.bus.publish(room, stored[2] as (typeof stored)[number]);
      // The next messages arrive as usual, and the subscriber is back on the fast path.
      await live.client.messages.post.mutate({ room, text: 'after the gap' });
      await live.client.messages.post.mutate({ room, text: 'and one more' });
      await follower.until((f) => f.messages.length >= 6);
      expect(seqs(follower)).toEqual([1, 2, 3, 4, 5, 6]);
      await expect.poll(() => deps.broadcaster.subscriberCount(room)).toBe(1);
      expect(follower.errors).toEqual([]);
      expect(live.events).toEqual({ opens: 1, closes: 0 });
    } finally {
      live.close();
    }
  });
});
