/**
 * Follows a room live from the terminal: a runnable example of the typed client package
 * (`atlas-chat/client`; see docs/typescript-client.md) subscribing to rooms.events.
 *
 *   ATLAS_URL=http://localhost:3000 ATLAS_TOKEN=… npx tsx examples/follow-room.ts general [lastSeq]
 *
 * Outside this repository the import is `from 'atlas-chat/client'`.
 */
import { createAtlasClient } from '../client/node.ts';

const url = process.env.ATLAS_URL ?? 'http://localhost:3000';
const token = process.env.ATLAS_TOKEN;
const [room = 'general', lastSeq] = process.argv.slice(2);
if (!token) throw new Error('Set ATLAS_TOKEN to a token from sign-up or sign-in');

const client = createAtlasClient({
  url,
  token,
  onDisconnect: () => console.error('(connection lost, reconnecting…)'),
});

await client.rooms.join.mutate({ room });
client.rooms.events.subscribe(
  // Without lastEventId only new messages arrive; with it, everything after that point first. A
  // message seq (as here, from the history page) still works; so does an event's own `id`.
  { room, lastEventId: lastSeq },
  {
    onData({ id, data: event }) {
      // Every event is tracked: `id` is opaque (`c<change>`, the room's change counter), and the
      // client resubscribes from it by itself after a reconnect.
      if (event.type === 'message') {
        const { seq, author, text, createdAt } = event.message;
        console.log(`#${seq} ${createdAt} ${author}: ${text}`);
      } else if (event.type === 'update') {
        // An edit, delete or reaction change: the whole message as it is now.
        const { seq, text, deletedAt, reactions } = event.message;
        const shown = deletedAt ? '(deleted)' : text;
        console.log(`#${seq} changed: ${shown} ${reactions.map((r) => `${r.emoji}${r.count}`).join(' ')}`);
      } else if (event.type === 'presence') {
        console.log(`(online: ${event.online.join(', ') || 'nobody'})`);
      } else if (event.type === 'typing') {
        if (event.usernames.length > 0) console.log(`(${event.usernames.join(', ')} typing…)`);
      } else {
        console.log(`(too far behind: refetch history with messages.list, then continue from ${id})`);
      }
    },
    onError(error) {
      console.error(error.message);
      process.exit(1);
    },
  },
);
