import type { Message } from '../../lib/api-types.ts';
import { isDeleted, type MessagePatch } from './message-patches.ts';

export interface TimelineSnapshot {
  /** Ascending seq, each message once, with pending optimistic changes applied. */
  messages: readonly Message[];
  /** Whether older messages exist before the first one held. */
  hasOlder: boolean;
  /** clientIds of the messages held, to retire optimistic copies once the real one is here. */
  clientIds: ReadonlySet<string>;
}

/** Newer states of messages seen on the live stream, remembered for pages fetched meanwhile. */
const REMEMBERED_UPDATES = 2_000;

/**
 * The messages of one room as this tab knows them. History pages, live events and answers to our
 * own posts and changes all arrive here, possibly more than once and in any order (a reconnect
 * replays, a post answer races its live event); the timeline keeps each message once, by id, in seq
 * order, and the newest state of each.
 *
 * Which state is newest: the live stream delivers every change in order, so its updates are the
 * reference. A history page or an answer to our own change was read at some moment the stream may
 * already have passed; "ticks" (a counter of stream updates) tell whether it has. Callers take
 * `mark()` before a request and pass it with the result: a message the stream updated after the
 * mark keeps the stream's state.
 */
export class Timeline {
  private base: Message[] = [];
  private hasOlder = false;
  private snapshot: TimelineSnapshot = { messages: [], hasOlder: false, clientIds: new Set() };
  private readonly ids = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private tick = 0;
  /** seq → the newest state the stream sent and when; insertion order is age (oldest dropped first). */
  private readonly updates = new Map<number, { message: Message; tick: number }>();
  /** seq → optimistic changes in the order they were made. */
  private readonly overlays = new Map<number, Array<{ id: number; patch: MessagePatch }>>();
  private nextOverlayId = 1;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): TimelineSnapshot => this.snapshot;

  oldestSeq(): number | null {
    return this.base[0]?.seq ?? null;
  }

  /** The stream's position, to pass back with the answer to a request started now. */
  readonly mark = (): number => this.tick;

  /**
   * Starts over from the newest page (first load, or after the server asked for a reset). Messages
   * newer than the page, which live events may have brought while it loaded, are kept.
   */
  replace(messages: readonly Message[], hasOlder: boolean, since: number): void {
    const pageNewest = messages.at(-1)?.seq ?? 0;
    const newer = this.base.filter((message) => message.seq > pageNewest);
    this.ids.clear();
    for (const message of newer) this.ids.add(message.id);
    this.base = this.merge(newer, this.newestOf(messages, since));
    this.hasOlder = hasOlder;
    this.publish();
  }

  /** Adds a page of older history above what is held. */
  prepend(messages: readonly Message[], hasOlder: boolean, since: number): void {
    this.base = this.merge(this.base, this.newestOf(messages, since));
    this.hasOlder = hasOlder;
    this.publish();
  }

  /** Adds messages from a live event or a post answer; returns those that were not held yet. */
  add(messages: readonly Message[]): Message[] {
    const fresh = messages.filter((message) => !this.ids.has(message.id));
    if (fresh.length === 0) return [];
    // A message is sent before any change to it, so a remembered update is always newer.
    this.base = this.merge(this.base, this.newestOf(fresh, -1));
    this.publish();
    return fresh;
  }

  /**
   * Live updates: each replaces the message with its seq. Returns the messages that became deleted
   * (they stop counting in the statistics).
   */
  update(messages: readonly Message[]): Message[] {
    for (const message of messages) {
      this.tick += 1;
      this.updates.delete(message.seq);
      this.updates.set(message.seq, { message, tick: this.tick });
      if (this.updates.size > REMEMBERED_UPDATES) {
        const oldest = this.updates.keys().next();
        if (!oldest.done) this.updates.delete(oldest.value);
      }
    }
    return this.replaceHeld(messages);
  }

  /**
   * The server's answer to our own edit, delete or reaction. Ignored when the stream has since
   * sent a state of that message: the stream's state is as new, or a newer one is on its way.
   */
  applyAnswer(message: Message, since: number): Message[] {
    if ((this.updates.get(message.seq)?.tick ?? -1) > since) return [];
    return this.replaceHeld([message]);
  }

  /** Shows `patch` on the message with `seq` until the returned function is called. */
  readonly overlay = (seq: number, patch: MessagePatch): (() => void) => {
    const id = this.nextOverlayId++;
    this.overlays.set(seq, [...(this.overlays.get(seq) ?? []), { id, patch }]);
    this.publish();
    return () => {
      const left = (this.overlays.get(seq) ?? []).filter((entry) => entry.id !== id);
      if (left.length > 0) this.overlays.set(seq, left);
      else this.overlays.delete(seq);
      this.publish();
    };
  };

  private replaceHeld(messages: readonly Message[]): Message[] {
    const deleted: Message[] = [];
    let changed = false;
    const base = [...this.base];
    for (const message of messages) {
      const index = findSeq(base, message.seq);
      const held = base[index];
      if (held === undefined) continue;
      if (!isDeleted(held) && isDeleted(message)) deleted.push(message);
      base[index] = message;
      changed = true;
    }
    if (changed) {
      this.base = base;
      this.publish();
    }
    return deleted;
  }

  /** `messages`, each replaced by the stream's state when the stream sent one after `since`. */
  private newestOf(messages: readonly Message[], since: number): readonly Message[] {
    if (this.updates.size === 0) return messages;
    return messages.map((message) => {
      const update = this.updates.get(message.seq);
      return update && update.tick > since ? update.message : message;
    });
  }

  private merge(current: readonly Message[], incoming: readonly Message[]): Message[] {
    const fresh: Message[] = [];
    for (const message of incoming) {
      if (this.ids.has(message.id)) continue;
      this.ids.add(message.id);
      fresh.push(message);
    }
    const last = current.at(-1);
    const inOrder = fresh.every((message, index) => index === 0 || (fresh[index - 1]?.seq ?? 0) < message.seq);
    // The common case, a new message at the end, needs no sort.
    if (inOrder && (last === undefined || (fresh[0]?.seq ?? 0) > last.seq)) return [...current, ...fresh];
    return [...current, ...fresh].sort((a, b) => a.seq - b.seq);
  }

  private publish(): void {
    const clientIds = new Set<string>();
    for (const message of this.base) if (message.clientId) clientIds.add(message.clientId);
    // Untouched messages keep their identity, so their rows do not re-render.
    const messages =
      this.overlays.size === 0
        ? this.base
        : this.base.map((message) => {
            const patches = this.overlays.get(message.seq);
            return patches ? patches.reduce((shown, entry) => entry.patch(shown), message) : message;
          });
    this.snapshot = { messages, hasOlder: this.hasOlder, clientIds };
    for (const listener of this.listeners) listener();
  }
}

/** Index of the message with `seq` in an ascending list, or -1. */
function findSeq(messages: readonly Message[], seq: number): number {
  let low = 0;
  let high = messages.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const found = messages[middle]?.seq ?? 0;
    if (found === seq) return middle;
    if (found < seq) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
