import { initTRPC, tracked } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ChangeEvent } from '../server/bus/event-bus.ts';
import { type SubscriptionTag, trackedDataFrame } from '../server/live/trpc-wire.ts';
import { uniqueName } from './support/clients.ts';
import { joinRoom, newUser } from './support/fixtures.ts';
import { openRawSocket, type RawSocket, subscribeFrame } from './support/raw-socket.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * The room broadcaster writes tRPC frames itself (server/live/trpc-wire.ts). These tests compare
 * its frames byte for byte with the frames tRPC writes for the same event, so a tRPC upgrade that
 * changes the wire format fails here instead of silently breaking live delivery.
 */

/** The ways a client may address a subscription: wsLink sends numeric ids without jsonrpc. */
const TAGS: SubscriptionTag[] = [
  { id: 1, jsonrpc: undefined },
  { id: 'sub-"7"', jsonrpc: '2.0' },
];

const sampleEvent: ChangeEvent = {
  type: 'message',
  change: 42,
  message: {
    id: 12,
    room: 'general',
    seq: 42,
    author: 'ada',
    text: 'quotes " backslash \\ newline \n unicode é 😀 </script>',
    createdAt: '2026-01-02T03:04:05.678Z',
    clientId: null,
    editedAt: null,
    deletedAt: null,
    reactions: [{ emoji: '👍', count: 1, usernames: ['ada'] }],
    replyTo: { seq: 41, author: 'bob', text: 'a "quote"', deleted: false },
    mentions: ['bob'],
  },
};

function dataFrames(socket: RawSocket): string[] {
  return socket.raw.filter((text) => (JSON.parse(text) as { result?: { type?: string } }).result?.type === 'data');
}

describe("tRPC's own ws adapter (default JSON encoder) as the reference", () => {
  const t = initTRPC.create();
  const router = t.router({
    events: t.procedure.subscription(async function* () {
      yield tracked('42', sampleEvent);
    }),
  });
  let wss: WebSocketServer;
  let baseUrl: string;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/api/trpc' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    applyWSSHandler({ wss, router });
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  it.each(TAGS)('a tracked yield on subscription %o is the frame the broadcaster writes', async (tag) => {
    const socket = await openRawSocket(baseUrl);
    try {
      socket.send({ ...subscribeFrame(tag.id, 'general', undefined, tag.jsonrpc), params: { path: 'events' } });
      await socket.until((s) => dataFrames(s).length === 1);
      expect(dataFrames(socket)[0]).toBe(trackedDataFrame(tag, '42', sampleEvent));
    } finally {
      socket.close();
    }
  });
});

describe('atlas-chat: a message through tRPC (history replay) and through the broadcaster (live)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
  });
  afterAll(() => server.close());

  it.each(TAGS)('gives the same bytes on subscription %o', async (tag) => {
    const room = uniqueName('wire');
    const alice = await newUser(server.baseUrl);
    await joinRoom(server.baseUrl, alice.token, room);
    const live = await openRawSocket(server.baseUrl, { token: alice.token });
    const replayed = await openRawSocket(server.baseUrl, { token: alice.token });
    try {
      live.send(subscribeFrame(tag.id, room, undefined, tag.jsonrpc));
      // Caught up and handed to the broadcaster: the next message takes the direct path.
      await expect.poll(() => server.app.deps.broadcaster.subscriberCount(room), { timeout: 15_000 }).toBe(1);
      const { message } = await alice.trpc.messages.post.mutate({ room, text: sampleEvent.message.text });
      await live.until((s) => dataFrames(s).some((frame) => frame.includes(`"seq":${message.seq}`)));

      // The same message again, replayed from the database by tRPC's own pipeline.
      replayed.send(subscribeFrame(tag.id, room, '0', tag.jsonrpc));
      await replayed.until((s) => dataFrames(s).some((frame) => frame.includes(`"seq":${message.seq}`)));

      const direct = dataFrames(live).find((frame) => frame.includes(`"seq":${message.seq}`));
      const throughTrpc = dataFrames(replayed).find((frame) => frame.includes(`"seq":${message.seq}`));
      expect(direct).toBeDefined();
      expect(direct).toBe(throughTrpc);
    } finally {
      live.close();
      replayed.close();
    }
  });
});
