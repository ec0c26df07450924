import type { Message } from '../../lib/api-types.ts';

export interface TimelineSnapshot {
  /** Ascending seq, each message once. */
  messages: readonly Message[];
  /** Whether older messages exist before the first one held. */
  hasOlder: boolean;
  /** clientIds of the messages held, to retire optimistic copies once the real one is here. */
  clientIds: ReadonlySet<string>;
}

/**
 * The messages of one room as this tab knows them. History pages, live events and answers to our
 * own posts all arrive here, possibly more than once and in any order (a reconnect replays, a post
 * answer races its live event); the timeline keeps each message once, by id, in seq order.
 */
export class Timeline {
  private snapshot: TimelineSnapshot = { messages: [], hasOlder: false, clientIds: new Set() };
  private readonly ids = new Set<number>();
  private readonly listeners = new Set<() => void>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): TimelineSnapshot => this.snapshot;

  oldestSeq(): number | null {
    return this.snapshot.messages[0]?.seq ?? null;
  }

  /**
   * Starts over from the newest page (first load, or after the server asked for a reset). Messages
   * newer than the page, which live events may have brought while it loaded, are kept.
   */
  replace(messages: readonly Message[], hasOlder: boolean): void {
    const pageNewest = messages.at(-1)?.seq ?? 0;
    const newer = this.snapshot.messages.filter((message) => message.seq > pageNewest);
    this.ids.clear();
    for (const message of newer) this.ids.add(message.id);
    this.publish(this.merge(newer, messages), hasOlder);
  }

  /** Adds a page of older history above what is held. */
  prepend(messages: readonly Message[], hasOlder: boolean): void {
    this.publish(this.merge(this.snapshot.messages, messages), hasOlder);
  }

  /** Adds messages from a live event or a post answer; returns those that were not held yet. */
  add(messages: readonly Message[]): Message[] {
    const fresh = messages.filter((message) => !this.ids.has(message.id));
    if (fresh.length === 0) return [];
    this.publish(this.merge(this.snapshot.messages, fresh), this.snapshot.hasOlder);
    return fresh;
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

  private publish(messages: Message[], hasOlder: boolean): void {
    const clientIds = new Set<string>();
    for (const message of messages) if (message.clientId) clientIds.add(message.clientId);
    this.snapshot = { messages, hasOlder, clientIds };
    for (const listener of this.listeners) listener();
  }
}
