import { describe, expect, it, vi } from 'vitest';
import { createAtlasClient, type RouterOutputs } from '../client/node.ts';
import { uniqueName } from './support/clients.ts';
import { startTestServer } from './support/server.ts';

type Message = RouterOutputs['messages']['post']['message'];

/**
 * The client package's own wiring (client/), run from source against the real server: the token
 * reaches both transports, and its WebSocket resumes a subscription across a restart. The packed
 * and installed package is tested in client-package.test.ts.
 */
describe('createAtlasClient', () => {
  it('signs in through a token function, follows a room, and resumes after a server restart without gaps or repeats', async () => {
    let server = await startTestServer({ RATE_LIMITS: 'off' });
    try {
      let token: string | undefined;
      const client = createAtlasClient({ url: server.baseUrl, token: () => token });
      // Signed up over HTTP with no token yet; every later call (and the WebSocket) carries it.
      ({ token } = await client.auth.signUp.mutate({
        username: uniqueName('client'),
        password: 'correct horse battery',
      }));
      const room = uniqueName('room');
      await client.rooms.join.mutate({ room });

      const received: Message[] = [];
      const errors: unknown[] = [];
      let starts = 0;
      const subscription = client.rooms.events.subscribe(
        { room },
        {
          onStarted: () => {
            starts += 1;
          },
          onData: ({ data }) => {
            if (data.type === 'message') received.push(data.message);
          },
          onError: (error) => errors.push(error),
        },
      );
      // Members only: a subscription that arrived without the token would fail here instead.
      await vi.waitFor(() => expect(starts).toBe(1));
      await client.messages.post.mutate({ room, text: 'one' });
      await vi.waitFor(() => expect(received.map((m) => m.text)).toEqual(['one']));

      server = await server.restart();
      // Posted while the client is still reconnecting (its first retry waits at least 250 ms): it
      // can only arrive through the resubscription from the last event id.
      await client.messages.post.mutate({ room, text: 'two' });
      await vi.waitFor(() => expect(received.map((m) => m.text)).toEqual(['one', 'two']), { timeout: 15_000 });
      // Delivery is in order, so once 'three' is in, any repeat of 'one' or 'two' would be too.
      await client.messages.post.mutate({ room, text: 'three' });
      await vi.waitFor(() => expect(received).toHaveLength(3));
      expect(received.map((m) => [m.seq, m.text])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
      ]);
      expect(errors).toEqual([]);
      subscription.unsubscribe();
    } finally {
      await server.close();
    }
  }, 30_000);
});
