import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../server/routers/app-router.ts';
import type { wsTrpcClient } from './clients.ts';

type Message = inferRouterOutputs<AppRouter>['messages']['post']['message'];

export interface Follower {
  /** Every message received, in arrival order, duplicates kept (so tests can see them). */
  messages: Message[];
  /** performance.now() when each message arrived (same index as `messages`). */
  arrivals: number[];
  /** Every `update` (edit, delete, reaction change): the full message after the change, in arrival order. */
  updates: Message[];
  /** Every `message` and `update` event in arrival order, with its event id. */
  changes: Array<{ id: string; type: 'message' | 'update'; message: Message }>;
  presence: string[][];
  typing: string[][];
  resets: number;
  /** Client-side resubscribes after a transport race (see onError below). */
  restarts: number;
  errors: unknown[];
  /** The tracked id of every event as received: tRPC resumes from the last one. */
  ids: string[];
  unsubscribe(): void;
  /** Resolves when `check` holds, polling; rejects after `timeoutMs` with what was received. */
  until(check: (follower: Follower) => boolean, timeoutMs?: number): Promise<void>;
}

/** Subscribes to rooms.events and records everything that arrives. */
export function follow(live: ReturnType<typeof wsTrpcClient>, room: string, lastEventId?: string): Follower {
  const follower: Follower = {
    messages: [],
    arrivals: [],
    updates: [],
    changes: [],
    presence: [],
    typing: [],
    resets: 0,
    restarts: 0,
    errors: [],
    ids: [],
    unsubscribe: () => {},
    until: async (check, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check(follower)) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out; got ${follower.messages.length} messages (last seq ${follower.messages.at(-1)?.seq}), ${follower.updates.length} updates, presence ${JSON.stringify(follower.presence.at(-1))}, typing ${JSON.stringify(follower.typing.at(-1))}, resets ${follower.resets}, errors ${follower.errors.map(String).join('; ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
  let subscription: { unsubscribe(): void } | undefined;
  let stopped = false;
  const start = (fromId: string | undefined) => {
    subscription = live.client.rooms.events.subscribe(
      { room, lastEventId: fromId },
      {
        onData({ id, data: event }) {
          follower.ids.push(id);
          if (event.type === 'message') {
            follower.messages.push(event.message);
            follower.arrivals.push(performance.now());
            follower.changes.push({ id, type: 'message', message: event.message });
          } else if (event.type === 'update') {
            follower.updates.push(event.message);
            follower.changes.push({ id, type: 'update', message: event.message });
          } else if (event.type === 'presence') follower.presence.push(event.online);
          else if (event.type === 'typing') follower.typing.push(event.usernames);
          else if (event.type === 'reset') follower.resets += 1;
        },
        onError(error) {
          // A subscription request sent at the very moment its socket dropped fails on the client
          // ("Active connection is not open", a race inside @trpc/client's wsClient) without ever
          // reaching the server. A robust client, like our web app, simply resubscribes from the
          // last id it holds; server errors (with data.code) are recorded for the tests.
          if (!stopped && error.data === undefined && /connection is not open/i.test(error.message)) {
            follower.restarts += 1;
            setTimeout(() => {
              if (!stopped) start(follower.ids.at(-1) ?? fromId);
            }, 20);
            return;
          }
          follower.errors.push(error);
        },
      },
    );
  };
  start(lastEventId);
  follower.unsubscribe = () => {
    stopped = true;
    subscription?.unsubscribe();
  };
  return follower;
}

export function seqs(follower: Follower): number[] {
  return follower.messages.map((message) => message.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
