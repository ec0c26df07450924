import { TRPCError, tracked } from '@trpc/server';
import { type ChangeEvent, isChangeEvent, type RoomEvent } from '../bus/event-bus.ts';
import type { Context } from '../context.ts';
import { createAsyncQueue } from '../lib/async-queue.ts';
import type { MessageDto } from '../schemas.ts';
import { CHANGE_LOG_LENGTH, type RoomRow } from '../store/store.ts';
import type { SubscriptionSlot } from './live-connection.ts';
import type { DirectSubscriber } from './room-broadcaster.ts';
import { throwEndReason } from './stream-end.ts';
import type { SubscriptionTag } from './trpc-wire.ts';

/**
 * Further back than this many changes, a resuming client is told to refetch history instead of
 * being replayed: exactly what the change log keeps (decision 019).
 */
export const MAX_REPLAY = CHANGE_LOG_LENGTH;
const BACKFILL_PAGE = 100;

export type ResetEvent = { type: 'reset' };

/**
 * Event ids (decision 019) are opaque to clients: `c<change>`, the room's change counter after the
 * event. Ids issued before 019 were a plain message seq; they still resume, from the change that
 * posted that message.
 */
type RequestedPosition = 'absent' | 'invalid' | { change: number } | { seq: number };

function parseLastEventId(lastEventId: string | null | undefined): RequestedPosition {
  if (lastEventId === undefined || lastEventId === null) return 'absent';
  const current = /^c(\d{1,15})$/.exec(lastEventId);
  if (current) return { change: Number(current[1]) };
  return /^\d{1,15}$/.test(lastEventId) ? { seq: Number(lastEventId) } : 'invalid';
}

export const eventId = (change: number) => `c${change}`;

/**
 * What a client receives for a change: `{type, message}`, without the server's change number (it
 * is in the event id). One object per bus event, so the WebSocket encoder serializes it once for
 * every subscriber (trpc-wire.ts caches by object).
 */
const wireEvents = new WeakMap<ChangeEvent, { type: ChangeEvent['type']; message: MessageDto }>();
export function wireChange(event: ChangeEvent): { type: ChangeEvent['type']; message: MessageDto } {
  let wire = wireEvents.get(event);
  if (!wire) {
    wire = { type: event.type, message: event.message };
    wireEvents.set(event, wire);
  }
  return wire;
}

const trackChange = (event: ChangeEvent) => tracked(eventId(event.change), wireChange(event));

/**
 * Every event is tracked, not only changes: tRPC's wsClient overwrites its remembered lastEventId
 * with the id of every data frame, so one untracked presence event would erase it and the next
 * automatic resubscribe would replay from the original input (seen as duplicates in our churn
 * test; @trpc/client 11.22.1, wsClient handleResponseMessage). A presence, typing or reset event
 * carries the id of the newest change already sent, which is exactly where a resume should start.
 */
const trackState = <T extends RoomEvent | ResetEvent>(lastChange: number, event: T) =>
  tracked(eventId(lastChange), event);

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
 * change after `lastEventId` (posts as `message`, edits, deletes and reaction changes as `update`)
 * exactly once and in change order, then live changes, presence and typing.
 *
 * Order of operations is what makes it gap-free: subscribe to the bus first (buffering), then read
 * the room's head and backlog from the database, then drain the buffer, dropping any change already
 * sent. An unknown, malformed or future lastEventId (e.g. the database was restored from a backup)
 * and one more than MAX_REPLAY changes behind get a `reset`: the client refetches history and the
 * stream continues live from the current head.
 *
 * Memory is bounded per subscription: the replay on a WebSocket takes the socket's catch-up turn
 * (one subscription at a time) and waits for the socket to drain before each event, so it holds
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
  // Once `live.direct` is set, the room broadcaster delivers this subscriber's changes itself.
  // `live.last` is the latest direct subscriber: its lastChange stays valid after the broadcaster
  // hands the subscriber back (on a gap).
  const live: { direct: DirectSubscriber | null; last: DirectSubscriber | null } = { direct: null, last: null };
  let leaveDirect = () => {};
  /** Set when this user left the room (rooms.leave, on any instance): the stream ends with FORBIDDEN. */
  let left = false;
  const unsubscribe = ctx.bus.subscribe(room.name, (event) => {
    if (event.type === 'left') {
      if (event.userId !== ctx.user.id || left) return;
      // At once, not when the queue gets to it: the broadcaster must not send them another change.
      left = true;
      leaveDirect();
      queue.push(event);
      return;
    }
    if (event.type === 'mine') return;
    if (live.direct === null || !isChangeEvent(event)) queue.push(event);
  });
  signal.addEventListener('abort', () => leaveDirect(), { once: true });
  const release = ctx.presence.connect(room.name, ctx.user.username);
  const stopped = () => signal.aborted || connection?.ended === true || queue.overflowed || left;
  const endSubscription = ctx.metrics.subscriptionStarted();
  /**
   * Hands live changes to the broadcaster once nothing is pending for this subscriber, so the
   * hand-over cannot reorder anything: everything yielded so far was already written by tRPC.
   */
  const goDirect = (lastChange: number) => {
    const tag = ctx.subscriptionTag;
    if (live.direct !== null || connection === null || !tag || queue.size() > 0 || stopped()) return;
    const direct: DirectSubscriber = {
      connection,
      tag,
      lastChange,
      // A gap on the direct path (a bus that lost or reordered changes) is no reason to close
      // the socket: the change comes back through this generator, which reads the gap from the
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
    // The bus must be listening before the head is read, or a change committed in between is missed.
    await ctx.bus.ready(room.name);
    const head = await ctx.store.rooms.lastChange(room.id);
    const requested = parseLastEventId(lastEventId);
    const from =
      typeof requested !== 'object'
        ? requested
        : 'change' in requested
          ? requested.change
          : ((await ctx.store.messages.changeOfSeq(room, requested.seq)) ?? 'invalid');
    let lastChange = head;
    if (from === 'invalid' || (typeof from === 'number' && (from > head || head - from > MAX_REPLAY))) {
      yield trackState(head, { type: 'reset' } satisfies ResetEvent);
    } else if (typeof from === 'number') {
      lastChange = from;
    }

    // Backlog (and any gap a reordering bus could leave): read from the database, the source of truth.
    const catchUp = async function* (untilChange: number) {
      if (lastChange >= untilChange) return;
      const endTurn = connection ? await connection.catchUpTurn(signal) : () => {};
      if (!endTurn) return;
      try {
        while (lastChange < untilChange) {
          const page = await ctx.store.messages.changes(room, lastChange, BACKFILL_PAGE);
          for (const change of page.changes) {
            if (change.change !== lastChange + 1) {
              // A hole: the log pruned changes this client never saw (it fell more than MAX_REPLAY
              // behind while catching up). Start over from the current head, as a far resume does.
              const now = await ctx.store.rooms.lastChange(room.id);
              yield trackState(now, { type: 'reset' } satisfies ResetEvent);
              lastChange = now;
              return;
            }
            // A replay must not pile up in the socket's buffer, whatever the cap says.
            if (connection && !(await connection.drained(signal))) return;
            yield trackChange(change);
            ctx.metrics.deliveries(1, 'stream');
            lastChange = change.change;
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
    const changed = (event: Extract<RoomEvent, { type: 'presence' | 'typing' }>) => {
      const key = event.type === 'presence' ? 'presence' : 'typing';
      const value = JSON.stringify(event.type === 'presence' ? event.online : event.usernames);
      if (sentState[key] === value) return false;
      sentState[key] = value;
      return true;
    };
    if (!stopped()) {
      const presence = { type: 'presence', online: ctx.presence.online(room.name) } satisfies RoomEvent;
      changed(presence);
      yield trackState(lastChange, presence);
      const typing = { type: 'typing', usernames: ctx.typing.typing(room.name) } satisfies RoomEvent;
      if (changed(typing)) yield trackState(lastChange, typing);
      goDirect(lastChange);
    }

    for await (const event of queue) {
      if (left) break;
      if (connection?.ended) break;
      if (connection?.tooSlow()) {
        ctx.metrics.slowConsumerDropped();
        return;
      }
      if (live.last !== null) lastChange = Math.max(lastChange, live.last.lastChange);
      if (event.type === 'left' || event.type === 'mine') continue;
      if (!isChangeEvent(event)) {
        if (changed(event)) yield trackState(lastChange, event);
        continue;
      }
      const { change } = event;
      if (change <= lastChange) continue;
      if (change > lastChange + 1) yield* catchUp(change - 1);
      if (left || stopped()) break;
      if (change <= lastChange) continue;
      // The bus's own event, shared by every subscriber: the WebSocket encoder serializes it once.
      yield trackChange(event);
      ctx.metrics.deliveries(1, 'stream');
      lastChange = change;
      goDirect(lastChange);
    }
    if (left) {
      // An error rather than a silent end, on both transports: a client sees why the room's
      // stream stopped, and tRPC's clients do not resubscribe after a server error.
      throw new TRPCError({ code: 'FORBIDDEN', message: `You left room "${room.name}"; join it again to follow it` });
    }
    if (queue.overflowed) {
      throw new TRPCError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Fell too far behind the room; reconnect to resume from the last event id',
      });
    }
    throwEndReason(signal);
  } finally {
    leaveDirect();
    unsubscribe();
    release();
    slot.release();
    endSubscription();
  }
}
