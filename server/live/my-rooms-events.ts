import { setTimeout as sleep } from 'node:timers/promises';
import { tracked } from '@trpc/server';
import { type ChangeEvent, isChangeEvent, type RoomEvent, userChannel } from '../bus/event-bus.ts';
import type { Context } from '../context.ts';
import { type MyRoom, UNREAD_COUNT_CAP } from '../store/store.ts';
import type { SubscriptionSlot } from './live-connection.ts';
import { throwEndReason } from './stream-end.ts';

/**
 * At most one recomputation of a subscriber's list per this window. A busy room posts many
 * messages a second, and every member online would otherwise get a new list (and, for edits and
 * deletes, cost a query) for each; a badge that updates four times a second looks live to a person,
 * and the cost per subscriber is then bounded by the clock, not by the message rate. The first
 * change after a quiet window goes out at once (leading edge); the rest of a burst waits for the
 * window's end and goes out as one list (trailing edge), so the last list is always exact.
 */
export const MY_ROOMS_COALESCE_MS = 250;

/**
 * Changes kept between two recomputations. A consumer that does not pull (an SSE client that stopped
 * reading) must not make them pile up: past this many, they are dropped and their rooms re-read.
 */
const MAX_PENDING_CHANGES = 1000;

export type MyRoomsEvent = { type: 'rooms'; rooms: MyRoom[] };

type LiveContext = Context & { user: NonNullable<Context['user']> };

/** The order of rooms.mine: most recent activity first, rooms without messages last, by name. */
function byActivity(a: MyRoom, b: MyRoom): number {
  if (a.lastMessageAt !== b.lastMessageAt) {
    if (a.lastMessageAt === null) return 1;
    if (b.lastMessageAt === null) return -1;
    // ISO strings of one format sort like the times they name.
    return a.lastMessageAt < b.lastMessageAt ? 1 : -1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * A user's live "my rooms" (me.events; the caller claimed `slot`): the list of rooms.mine first,
 * then the whole list again whenever something in it changed, never twice the same.
 *
 * What it listens to, and what each costs:
 * - The bus channel of each of the user's rooms. A new message is applied in memory (lastSeq,
 *   lastMessageAt, +1 unread unless the user wrote it, +1 mention if it names them): no query
 *   however busy the room. Applied only when its seq is past the list's lastSeq for the room, so a
 *   message the last read already counted is not counted twice. An edit, delete or reaction
 *   change can only change counts when it concerns an unread message by someone else; only then
 *   is that one room re-read (RoomStore.myRoom), at most once per window.
 * - The user's own channel (userChannel): markRead, join and leave, from any tab or instance,
 *   name the room, which is re-read (join adds it, leave removes it); each stream then follows
 *   the rooms of its list on the bus.
 *
 * Events that reach it while a read is in flight wait for the next window, so a read can never
 * overwrite them. A room it starts to follow may have had a message between the read that named
 * it and the bus subscription: the list is read once more after each such subscription (for the
 * first list, that is two reads per subscribe).
 *
 * Notices on the user's channel are at-most-once in shared mode, like presence: one lost on the
 * way from another instance leaves that room stale until its next change or a resubscribe.
 *
 * Each event is tracked with an opaque id that no input reads back: the list is state, not history,
 * so a resubscribe (tRPC sends the last id) simply starts over with the current list.
 */
export async function* streamMyRooms(ctx: LiveContext, slot: SubscriptionSlot) {
  const { signal } = slot;
  const connection = ctx.connection;
  const user = ctx.user;
  const stream = Math.random().toString(36).slice(2, 10);
  let sentCount = 0;

  let list: MyRoom[] = [];
  let readAll = true;
  /** Rooms to re-read at the next window (RoomStore.myRoom), by name. */
  const reread = new Set<string>();
  let changes: ChangeEvent[] = [];
  const roomIds = new Map<string, number>();
  /** The rooms followed on the bus, with the function that stops following each. */
  const followed = new Map<string, () => void>();

  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const pending = () => readAll || reread.size > 0 || changes.length > 0;

  const onRoomEvent = (event: RoomEvent) => {
    if (!isChangeEvent(event)) return;
    if (changes.length >= MAX_PENDING_CHANGES) {
      for (const change of changes) reread.add(change.message.room);
      changes = [];
      reread.add(event.message.room);
    } else {
      changes.push(event);
    }
    notify();
  };
  const follow = (room: string) => {
    if (!followed.has(room)) followed.set(room, ctx.bus.subscribe(room, onRoomEvent));
  };
  const unfollow = (room: string) => {
    followed.get(room)?.();
    followed.delete(room);
  };

  const channel = userChannel(user.id);
  const unsubscribeUser = ctx.bus.subscribe(channel, (event) => {
    if (event.type !== 'mine') return;
    roomIds.set(event.room, event.roomId);
    reread.add(event.room);
    notify();
  });
  signal.addEventListener('abort', notify, { once: true });
  const stopped = () => signal.aborted || connection?.ended === true;
  const endSubscription = ctx.metrics.subscriptionStarted();

  const roomId = async (name: string) => {
    let id = roomIds.get(name);
    if (id === undefined) {
      id = (await ctx.store.rooms.find(name))?.id;
      if (id !== undefined) roomIds.set(name, id);
    }
    return id;
  };

  /** Does an edit, delete or reaction change possibly change this room's counts? */
  const countsMayChange = (event: ChangeEvent) => {
    const entry = list.find((room) => room.name === event.message.room);
    return entry !== undefined && event.message.author !== user.username && event.message.seq > entry.lastReadSeq;
  };

  /** A new message, applied to the list without a query (see above). */
  const applyPost = (event: ChangeEvent) => {
    const entry = list.find((room) => room.name === event.message.room);
    const { message } = event;
    if (!entry || message.seq <= entry.lastSeq) return;
    entry.lastSeq = message.seq;
    entry.lastMessageAt = message.createdAt;
    if (message.author === user.username || message.seq <= entry.lastReadSeq || message.deletedAt !== null) return;
    entry.unreadCount = Math.min(UNREAD_COUNT_CAP, entry.unreadCount + 1);
    if (message.mentions.includes(user.username))
      entry.mentionCount = Math.min(UNREAD_COUNT_CAP, entry.mentionCount + 1);
  };

  try {
    // Listening before the first read: a notice sent meanwhile triggers a second one.
    await ctx.bus.ready(channel);
    let sentJson = '';
    let lastRun = Number.NEGATIVE_INFINITY;
    while (!stopped()) {
      if (!pending()) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const wait = lastRun + MY_ROOMS_COALESCE_MS - Date.now();
      if (wait > 0) {
        await sleep(wait, undefined, { signal }).catch(() => {});
        continue;
      }
      lastRun = Date.now();

      const taken = changes;
      changes = [];
      const posts: ChangeEvent[] = [];
      for (const event of taken) {
        if (event.type === 'message') posts.push(event);
        // Also for a message whose post is not applied yet (in this batch, or crossed on the bus):
        // the post would count it as it was posted, the re-read counts it as it is.
        else if (!readAll && countsMayChange(event)) reread.add(event.message.room);
      }
      const fullRead = readAll;
      if (readAll) {
        readAll = false;
        reread.clear();
        list = await ctx.store.rooms.mine(user.id);
      } else if (reread.size > 0) {
        const names = [...reread];
        reread.clear();
        for (const name of names) {
          const id = await roomId(name);
          const fresh = id === undefined ? undefined : await ctx.store.rooms.myRoom(id, user.id);
          list = list.filter((room) => room.name !== name);
          if (fresh) list.push(fresh);
        }
      }
      if (stopped()) break;
      for (const post of posts) applyPost(post);
      list.sort(byActivity);

      // Follow exactly the rooms of the list.
      const names = new Set(list.map((room) => room.name));
      for (const room of [...followed.keys()]) if (!names.has(room)) unfollow(room);
      const added = [...names].filter((room) => !followed.has(room));
      for (const room of added) follow(room);

      const json = JSON.stringify(list);
      if (json !== sentJson) {
        sentJson = json;
        if (connection?.tooSlow()) {
          ctx.metrics.slowConsumerDropped();
          return;
        }
        sentCount += 1;
        // A copy: the list is changed in place by the next posts, while tRPC may still hold this one.
        yield tracked(`${stream}.${sentCount}`, {
          type: 'rooms',
          rooms: list.map((room) => ({ ...room })),
        } satisfies MyRoomsEvent);
        ctx.metrics.deliveries(1, 'stream');
      }
      if (added.length > 0) {
        // Messages between the read that named these rooms and their bus subscription: read again
        // (the whole list after the first read, which named them all; otherwise just these rooms).
        await Promise.all(added.map((room) => ctx.bus.ready(room)));
        if (fullRead) readAll = true;
        else for (const room of added) reread.add(room);
      }
    }
    throwEndReason(signal);
  } finally {
    unsubscribeUser();
    for (const room of [...followed.keys()]) unfollow(room);
    slot.release();
    endSubscription();
  }
}
