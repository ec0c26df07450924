import { tracked } from '@trpc/server';
import type { RoomEvent } from '../bus/event-bus.ts';
import type { Context } from '../context.ts';
import { createAsyncQueue } from '../lib/async-queue.ts';
import type { MessageDto } from '../schemas.ts';
import { listMessages } from '../store/messages.ts';
import { getRoomLastSeq, type RoomRow } from '../store/rooms.ts';
import { type DirectSubscriber, MAX_BUFFERED_BYTES } from './room-broadcaster.ts';
import type { SubscriptionTag } from './ws-encoder.ts';

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

/**
 * A member's live view of one room (the caller checked membership): every message after
 * `lastEventId` exactly once and in seq
 * order, then live messages, presence and typing changes.
 *
 * Order of operations is what makes it gap-free: subscribe to the bus first (buffering), then read
 * the room's head and backlog from the database, then drain the buffer, dropping any message whose
 * seq was already sent. An unknown, malformed or future lastEventId (e.g. the database was
 * restored from a backup) and one more than MAX_REPLAY behind get a `reset`: the client refetches
 * history and the stream continues live from the current head.
 */
export async function* streamRoomEvents(
  ctx: Context & { user: NonNullable<Context['user']>; subscriptionTag: SubscriptionTag | undefined },
  room: RoomRow,
  lastEventId: string | null | undefined,
  signal: AbortSignal | undefined,
) {
  const queue = createAsyncQueue<RoomEvent>(signal);
  // Once `live.direct` is set, the room broadcaster delivers this subscriber's messages itself.
  const live: { direct: DirectSubscriber | null } = { direct: null };
  let leaveDirect = () => {};
  const unsubscribe = ctx.bus.subscribe(room.name, (event) => {
    if (live.direct === null || event.type !== 'message') queue.push(event);
  });
  signal?.addEventListener('abort', () => leaveDirect(), { once: true });
  const release = ctx.presence.connect(room.name, ctx.user.username);
  const endSubscription = ctx.metrics.subscriptionStarted();
  const connection = ctx.connection;
  const tooSlow = () => {
    if (!connection || connection.socket.bufferedAmount <= MAX_BUFFERED_BYTES) return false;
    ctx.metrics.slowConsumerDropped();
    connection.socket.terminate();
    return true;
  };
  /**
   * Hands live messages to the broadcaster once nothing is pending for this subscriber, so the
   * hand-over cannot reorder anything: everything yielded so far was already written by tRPC.
   */
  const goDirect = (lastSeq: number) => {
    const tag = ctx.subscriptionTag;
    if (live.direct !== null || connection === null || !tag || queue.size() > 0 || signal?.aborted) return;
    live.direct = { socket: connection.socket, id: tag.id, jsonrpc: tag.jsonrpc, lastSeq };
    leaveDirect = ctx.broadcaster.add(room.name, live.direct);
  };

  try {
    const head = getRoomLastSeq(ctx.db, room.id);
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
    const catchUp = function* (untilSeq: number) {
      while (lastSeq < untilSeq) {
        const page = listMessages(ctx.db, room, { after: lastSeq, limit: BACKFILL_PAGE });
        for (const message of page.messages) {
          yield trackMessage(message);
          ctx.metrics.deliveries(1, 'stream');
          lastSeq = message.seq;
        }
        if (!page.hasMore) break;
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
    const presence = { type: 'presence', online: ctx.presence.online(room.name) } satisfies RoomEvent;
    changed(presence);
    yield trackState(lastSeq, presence);
    const typing = { type: 'typing', usernames: ctx.typing.typing(room.name) } satisfies RoomEvent;
    if (changed(typing)) yield trackState(lastSeq, typing);

    goDirect(lastSeq);
    for await (const event of queue) {
      if (tooSlow()) return;
      if (live.direct !== null) lastSeq = live.direct.lastSeq;
      if (event.type !== 'message') {
        if (changed(event)) yield trackState(lastSeq, event);
        continue;
      }
      const { seq } = event.message;
      if (seq <= lastSeq) continue;
      if (seq > lastSeq + 1) yield* catchUp(seq - 1);
      if (seq <= lastSeq) continue;
      // The bus's own event object, shared by every subscriber: the WebSocket encoder serializes it once.
      yield tracked(String(seq), event);
      ctx.metrics.deliveries(1, 'stream');
      lastSeq = seq;
      goDirect(lastSeq);
    }
  } finally {
    leaveDirect();
    unsubscribe();
    release();
    endSubscription();
  }
}
