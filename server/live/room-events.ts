import { TRPCError, tracked } from '@trpc/server';
import type { RoomEvent } from '../bus/event-bus.ts';
import type { Context } from '../context.ts';
import { createAsyncQueue } from '../lib/async-queue.ts';
import type { MessageDto } from '../schemas.ts';
import type { RoomRow } from '../store/store.ts';
import type { SubscriptionSlot } from './live-connection.ts';
import type { DirectSubscriber } from './room-broadcaster.ts';
import type { SubscriptionTag } from './trpc-wire.ts';

/** Further back than this, a resuming client is told to refetch history instead of being replayed. */
export const MAX_REPLAY = 1000;
const BACKFILL_PAGE = 100;

type MessageEvent = Extract<RoomEvent, { type: 'message' }>;
export type ResetEvent = { type: 'reset' };

function parseLastEventId(lastEventId: string | null | undefined): number | 'absent' | 'invalid' {
  if (lastEventId === undefined || lastEventId === null) return 'absent';
  return /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : 'invalid';
}

const trackMessage = (message: MessageDto) =>
  tracked(String(message.seq), { type: 'message', message } satisfies MessageEvent);

/**
 * Every event is tracked, not only messages: tRPC's wsClient overwrites its remembered lastEventId
 * with the id of every data frame, so one untracked presence event would erase it and the next
 * automatic resubscribe would replay from the original input (seen as duplicates in our churn
 * test; @trpc/client 11.22.1, wsClient handleResponseMessage). A non-message event carries the seq
 * of the newest message already sent, which is exactly where a resume should start.
 */
const trackState = <T extends RoomEvent | ResetEvent>(lastSeq: number, event: T) => tracked(String(lastSeq), event);

type LiveContext = Context & { user: NonNullable<Context['user']>; subscriptionTag: SubscriptionTag | undefined };

/**
 * Takes the slot a live subscription needs before it starts: on a WebSocket, one of the socket's
 * subscription slots (one per `resource`, a capped number in all); over SSE, one of the user's and
 * the IP's live connections. Throws a clear error when none is free.
 */
export function claimSubscriptionSlot(
  ctx: LiveContext,
  resource: string,
  signal: AbortSignal | undefined,
): SubscriptionSlot {
  const stopped = signal ?? new AbortController().signal;
  if (ctx.connection) return ctx.connection.claimSubscription(ctx.subscriptionTag, resource, stopped);
  return ctx.connections.openStream({ userId: ctx.user.id, sessionId: ctx.sessionId, ip: ctx.http.ip }, stopped);
}

/**
 * A member's live view of one room (the caller checked membership and claimed `slot`): every
 * message after `lastEventId` exactly once and in seq order, then live messages, presence and
 * typing changes.
 *
 * Order of operations is what makes it gap-free: subscribe to the bus first (buffering), then read
 * the room's head and backlog from the database, then drain the buffer, dropping any message whose
 * seq was already sent. An unknown, malformed or future lastEventId (e.g. the database was
 * restored from a backup) and one more than MAX_REPLAY behind get a `reset`: the client refetches
 * history and the stream continues live from the current head.
 *
 * Memory is bounded per subscription: the replay on a WebSocket takes the socket's catch-up turn
 * (one subscription at a time) and waits for the socket to drain before each message, so it holds
 * at most one page; over SSE tRPC pulls from this generator only as fast as the response drains.
 * Live events wait in a queue of at most LIVE_MAX_QUEUED_EVENTS; a subscriber that falls further
 * behind is dropped and resumes from its last event id.
 */
export async function* streamRoomEvents(
  ctx: LiveContext,
  room: RoomRow,
  lastEventId: string | null | undefined,
  slot: SubscriptionSlot,
) {
  const { signal } = slot;
  const connection = ctx.connection;
  const queue = createAsyncQueue<RoomEvent>(signal, {
    limit: ctx.connections.settings.maxQueuedEvents,
    // On a WebSocket the client reconnects and resumes every subscription; over SSE the stream
    // ends with a retryable error below and EventSource reconnects with Last-Event-ID.
    onOverflow: () => connection?.drop(),
  });
  // Once `live.direct` is set, the room broadcaster delivers this subscriber's messages itself.
  // `live.last` is the latest direct subscriber: its lastSeq stays valid after the broadcaster
  // hands the subscriber back (on a gap).
  const live: { direct: DirectSubscriber | null; last: DirectSubscriber | null } = { direct: null, last: null };
  let leaveDirect = () => {};
  const unsubscribe = ctx.bus.subscribe(room.name, (event) => {
    if (live.direct === null || event.type !== 'message') queue.push(event);
  });
  signal.addEventListener('abort', () => leaveDirect(), { once: true });
  const release = ctx.presence.connect(room.name, ctx.user.username);
  const stopped = () => signal.aborted || connection?.ended === true || queue.overflowed;
  const endSubscription = ctx.metrics.subscriptionStarted();
  /**
   * Hands live messages to the broadcaster once nothing is pending for this subscriber, so the
   * hand-over cannot reorder anything: everything yielded so far was already written by tRPC.
   */
  const goDirect = (lastSeq: number) => {
    const tag = ctx.subscriptionTag;
    if (live.direct !== null || connection === null || !tag || queue.size() > 0 || stopped()) return;
    const direct: DirectSubscriber = {
      connection,
      tag,
      lastSeq,
      // A gap on the direct path (a bus that lost or reordered messages) is no reason to close
      // the socket: the message comes back through this generator, which reads the gap from the
      // database and then goes direct again.
      handBack: (event) => {
        if (live.direct !== direct) return;
        live.direct = null;
        leaveDirect = () => {};
        queue.push(event);
      },
    };
    live.direct = direct;
    live.last = direct;
    leaveDirect = ctx.broadcaster.add(room.name, direct);
  };

  try {
    // The bus must be listening before the head is read, or a message committed in between is missed.
    await ctx.bus.ready(room.name);
    const head = await ctx.store.rooms.lastSeq(room.id);
    const requested = parseLastEventId(lastEventId);
    let lastSeq = head;
    if (
      requested === 'invalid' ||
      (typeof requested === 'number' && (requested > head || head - requested > MAX_REPLAY))
    ) {
      yield trackState(head, { type: 'reset' } satisfies ResetEvent);
    } else if (typeof requested === 'number') {
      lastSeq = requested;
    }

    // Backlog (and any gap a reordering bus could leave): read from the database, the source of truth.
    const catchUp = async function* (untilSeq: number) {
      if (lastSeq >= untilSeq) return;
      const endTurn = connection ? await connection.catchUpTurn(signal) : () => {};
      if (!endTurn) return;
      try {
        while (lastSeq < untilSeq) {
          const page = await ctx.store.messages.list(room, { after: lastSeq, limit: BACKFILL_PAGE });
          for (const message of page.messages) {
            // A replay must not pile up in the socket's buffer, whatever the cap says.
            if (connection && !(await connection.drained(signal))) return;
            yield trackMessage(message);
            ctx.metrics.deliveries(1, 'stream');
            lastSeq = message.seq;
          }
          if (!page.hasMore) break;
        }
      } finally {
        endTurn();
      }
    };
    yield* catchUp(head);

    // Presence and typing are state, not history: send the current state, then only changes.
    const sentState = { presence: '', typing: '[]' };
    const changed = (event: Exclude<RoomEvent, MessageEvent>) => {
      const key = event.type === 'presence' ? 'presence' : 'typing';
      const value = JSON.stringify(event.type === 'presence' ? event.online : event.usernames);
      if (sentState[key] === value) return false;
      sentState[key] = value;
      return true;
    };
    if (!stopped()) {
      const presence = { type: 'presence', online: ctx.presence.online(room.name) } satisfies RoomEvent;
      changed(presence);
      yield trackState(lastSeq, presence);
      const typing = { type: 'typing', usernames: ctx.typing.typing(room.name) } satisfies RoomEvent;
      if (changed(typing)) yield trackState(lastSeq, typing);
      goDirect(lastSeq);
    }

    for await (const event of queue) {
      if (connection?.ended) return;
      if (connection?.tooSlow()) {
        ctx.metrics.slowConsumerDropped();
        return;
      }
      if (live.last !== null) lastSeq = Math.max(lastSeq, live.last.lastSeq);
      if (event.type !== 'message') {
        if (changed(event)) yield trackState(lastSeq, event);
        continue;
      }
      const { seq } = event.message;
      if (seq <= lastSeq) continue;
      if (seq > lastSeq + 1) yield* catchUp(seq - 1);
      if (stopped()) return;
      if (seq <= lastSeq) continue;
      // The bus's own event object, shared by every subscriber: the WebSocket encoder serializes it once.
      yield tracked(String(seq), event);
      ctx.metrics.deliveries(1, 'stream');
      lastSeq = seq;
      goDirect(lastSeq);
    }
    if (queue.overflowed) {
      throw new TRPCError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Fell too far behind the room; reconnect to resume from the last event id',
      });
    }
    // Over SSE, say why the stream ends (e.g. the session was revoked); a WebSocket is closing anyway.
    if (!connection && signal.reason instanceof TRPCError) throw signal.reason;
  } finally {
    leaveDirect();
    unsubscribe();
    release();
    slot.release();
    endSubscription();
  }
}
