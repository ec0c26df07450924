/**
 * Follows a room live from the terminal: a runnable example of a TypeScript client subscribing to
 * rooms.events over one WebSocket.
 *
 *   ATLAS_URL=http://localhost:3000 ATLAS_TOKEN=… npx tsx examples/follow-room.ts general [lastSeq]
 */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import type { AppRouter } from '../server/routers/app-router.ts';

const baseUrl = process.env.ATLAS_URL ?? 'http://localhost:3000';
const token = process.env.ATLAS_TOKEN;
const [room = 'general', lastSeq] = process.argv.slice(2);
if (!token) throw new Error('Set ATLAS_TOKEN to a token from sign-up or sign-in');

const wsClient = createWSClient({
  url: `${baseUrl.replace(/^http/, 'ws')}/api/trpc`,
  // Node 20 has no global WebSocket; browsers and Node 22+ do not need this line.
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  connectionParams: { token },
  onClose: () => console.error('(connection lost, reconnecting…)'),
});

const client = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink({ client: wsClient }),
      // The server takes at most 10 calls per batch (and auth.* calls only on their own).
      false: httpBatchLink({
        url: `${baseUrl}/api/trpc`,
        headers: { authorization: `Bearer ${token}` },
        maxItems: 10,
      }),
    }),
  ],
});

await client.rooms.join.mutate({ room });
client.rooms.events.subscribe(
  // Without lastEventId only new messages arrive; with it, everything after that seq first.
  { room, lastEventId: lastSeq },
  {
    onData({ id, data: event }) {
      // Every event is tracked: `id` is the seq of the newest message delivered so far, and
      // wsLink resubscribes from it by itself after a reconnect.
      if (event.type === 'message') {
        const { seq, author, text, createdAt } = event.message;
        console.log(`#${seq} ${createdAt} ${author}: ${text}`);
      } else if (event.type === 'presence') {
        console.log(`(online: ${event.online.join(', ') || 'nobody'})`);
      } else if (event.type === 'typing') {
        if (event.usernames.length > 0) console.log(`(${event.usernames.join(', ')} typing…)`);
      } else {
        console.log(`(too far behind: refetch history with messages.list, then continue from #${id})`);
      }
    },
    onError(error) {
      console.error(error.message);
      process.exit(1);
    },
  },
);
