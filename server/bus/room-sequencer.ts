import type { ChangePage } from '../store/store.ts';
import { type ChangeEvent, isChangeEvent, type RoomEvent, type RoomEventListener } from './event-bus.ts';

/**
 * The database as the sequencer sees it: the source of truth for a room's changes (posts, edits,
 * deletes, reaction changes), numbered by the room's change counter (decision 019).
 */
export interface RoomFeed {
  /** The room's newest change (0 before the first, or for an unknown room). */
  head(room: string): Promise<number>;
  /** The heads of many rooms in one query (unknown rooms left out): the periodic head check. */
  heads(rooms: readonly string[]): Promise<Map<string, number>>;
  /** Up to `limit` changes after change `after`, ascending. */
  after(room: string, after: number, limit: number): Promise<ChangePage>;
}

export interface RoomSequencerOptions {
  /**
   * How long an out-of-order message waits for the ones before it before the gap is read from the
   * database. Two instances' PUBLISHes often cross on the way to Redis; most gaps close by themselves
   * within a few milliseconds, and waiting briefly saves a query per crossing.
   */
  gapHoldMs?: number;
  /** Pause before retrying a gap fill or head read that failed (the database was unreachable). */
  retryMs?: number;
  onError?: (error: unknown, room: string) => void;
}

const FILL_PAGE = 100;
/** Out-of-order messages kept while a gap is open; beyond this they are re-read from the database. */
const MAX_PENDING = 1000;

interface RoomState {
  listeners: Set<RoomEventListener>;
  /** The newest change handed to the listeners; null until the room's head is known. */
  cursor: number | null;
  /** Changes that arrived ahead of a gap, by change number. */
  pending: Map<number, ChangeEvent>;
  /** The highest change known to exist (seen on the bus or read as the head). */
  known: number;
  filling: boolean;
  timer: NodeJS.Timeout | null;
  /** Resolves once `cursor` is set (or its first read failed). */
  ready: Promise<void>;
}

/**
 * Turns an at-most-once, possibly reordered stream of room events (Redis pub/sub) into what the
 * in-process bus gives: per room, changes (posts, edits, deletes, reaction changes) exactly once and
 * in change order (decision 019), with no gaps.
 *
 * Per room with local listeners it keeps a cursor, the newest change delivered. A change at
 * cursor + 1 is delivered at once (then any held successors); an older one is dropped; a newer one
 * is held for `gapHoldMs` and, if the gap is still open, the missing messages are read from the
 * database and delivered in order. `catchUp` (called after a bus reconnect and by the periodic
 * head check) does the same against the room's head, which is how messages whose PUBLISH was lost
 * arrive. One query fills a gap for every local subscriber of the room at once.
 *
 * Presence and typing are state, not history: they are delivered as they come.
 */
export class RoomSequencer {
  private readonly rooms = new Map<string, RoomState>();
  private readonly gapHoldMs: number;
  private readonly retryMs: number;
  private closed = false;

  constructor(
    private readonly feed: RoomFeed,
    private readonly options: RoomSequencerOptions = {},
  ) {
    this.gapHoldMs = options.gapHoldMs ?? 50;
    this.retryMs = options.retryMs ?? 1000;
  }

  /** Rooms with local listeners. */
  roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * Adds a listener. `start` runs when the room gets its first listener (the bus subscribes to
   * the room there); the room's head is read once it resolves, so every message committed after
   * that read reaches the listeners, live or through a fill.
   */
  subscribe(room: string, listener: RoomEventListener, start: () => Promise<void>): () => void {
    let state = this.rooms.get(room);
    if (!state) {
      const created: RoomState = {
        listeners: new Set(),
        cursor: null,
        pending: new Map(),
        known: 0,
        filling: false,
        timer: null,
        ready: Promise.resolve(),
      };
      created.ready = start()
        .catch((error: unknown) => this.options.onError?.(error, room))
        .then(() => this.initialize(room, created));
      state = created;
      this.rooms.set(room, state);
    }
    const current = state;
    current.listeners.add(listener);
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.rooms.get(room) === current) this.rooms.delete(room);
      if (current.timer) clearTimeout(current.timer);
      current.timer = null;
    };
  }

  /** Whether `room` still has listeners (the bus unsubscribes when it has none). */
  has(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Resolves once the room's starting point is known: read the database only after this. */
  ready(room: string): Promise<void> {
    return this.rooms.get(room)?.ready ?? Promise.resolve();
  }

  receive(room: string, event: RoomEvent): void {
    const state = this.rooms.get(room);
    if (!state) return;
    if (!isChangeEvent(event)) {
      this.emit(state, event);
      return;
    }
    const change = event.change;
    state.known = Math.max(state.known, change);
    if (state.cursor === null) {
      // The head is being read; hold everything until it is known.
      this.hold(state, event);
      return;
    }
    if (change <= state.cursor) return;
    if (change === state.cursor + 1) {
      this.deliver(state, event);
      this.flushPending(state);
      return;
    }
    this.hold(state, event);
    this.scheduleFill(room, state, this.gapHoldMs);
  }

  /**
   * Reads every subscribed room's head in one query and delivers anything newer than the cursors:
   * after a bus outage, and periodically for PUBLISHes lost on the publishers' side.
   */
  async catchUpAll(): Promise<void> {
    const names = [...this.rooms.keys()];
    if (names.length === 0) return;
    const heads = await this.feed.heads(names);
    const fills: Promise<void>[] = [];
    for (const [room, head] of heads) {
      const state = this.rooms.get(room);
      if (!state || state.cursor === null) continue;
      state.known = Math.max(state.known, head);
      if (state.known > state.cursor) {
        fills.push(
          this.fill(room, state).catch((error: unknown) => {
            this.options.onError?.(error, room);
            if (this.rooms.get(room) === state) this.scheduleFill(room, state, this.retryMs);
          }),
        );
      }
    }
    await Promise.all(fills);
  }

  close(): void {
    this.closed = true;
    for (const state of this.rooms.values()) if (state.timer) clearTimeout(state.timer);
    this.rooms.clear();
  }

  private async initialize(room: string, state: RoomState): Promise<void> {
    try {
      const head = await this.feed.head(room);
      if (state.cursor !== null) return;
      state.cursor = head;
      state.known = Math.max(state.known, head);
    } catch (error) {
      this.options.onError?.(error, room);
      // Without a head, start from the first message that arrives (listeners fill their own gaps).
      const first = Math.min(...state.pending.keys());
      state.cursor = Number.isFinite(first) ? first - 1 : null;
      if (state.cursor === null) return;
    }
    for (const change of state.pending.keys()) if (change <= state.cursor) state.pending.delete(change);
    this.flushPending(state);
    if (state.known > state.cursor) this.scheduleFill(room, state, this.gapHoldMs);
  }

  private hold(state: RoomState, event: ChangeEvent): void {
    // Past the cap the held events are dropped: the fill reads them from the database anyway.
    if (state.pending.size < MAX_PENDING) state.pending.set(event.change, event);
  }

  private flushPending(state: RoomState): void {
    if (state.cursor === null) return;
    for (;;) {
      const next = state.pending.get(state.cursor + 1);
      if (!next) break;
      state.pending.delete(state.cursor + 1);
      this.deliver(state, next);
    }
    if (state.pending.size === 0 && state.timer && !state.filling) {
      clearTimeout(state.timer);
      state.timer = null;
    }
  }

  private scheduleFill(room: string, state: RoomState, delayMs: number): void {
    if (state.timer || state.filling || this.closed) return;
    state.timer = setTimeout(() => {
      state.timer = null;
      this.fill(room, state).catch((error: unknown) => {
        this.options.onError?.(error, room);
        if (this.rooms.get(room) === state) this.scheduleFill(room, state, this.retryMs);
      });
    }, delayMs);
    state.timer.unref();
  }

  /** Reads from the database up to `known` and delivers in order; one fill per room at a time. */
  private async fill(room: string, state: RoomState): Promise<void> {
    if (state.filling || state.cursor === null) return;
    state.filling = true;
    try {
      while (state.cursor !== null && state.cursor < state.known && this.rooms.get(room) === state) {
        const before: number = state.cursor;
        const page = await this.feed.after(room, state.cursor, FILL_PAGE);
        for (const { change, type, message } of page.changes) {
          // Live arrivals may have moved the cursor while the page was read.
          if (change <= state.cursor) continue;
          // A hole in what the database answers is permanent: the change log pruned those changes
          // (this instance fell over CHANGE_LOG_LENGTH behind). Step over it rather than stall the
          // room; each subscriber's stream sees the jump and resets its client (room-events.ts).
          if (change > state.cursor + 1) {
            for (const held of state.pending.keys()) if (held < change) state.pending.delete(held);
            state.cursor = change - 1;
          }
          this.deliver(state, state.pending.get(change) ?? { type, message, change });
          state.pending.delete(change);
        }
        this.flushPending(state);
        // No progress (a change missing from the database: e.g. pruned from the log): stop rather than loop.
        if (!page.hasMore || state.cursor === before) break;
      }
    } finally {
      state.filling = false;
    }
    if (state.cursor !== null) {
      for (const change of state.pending.keys()) if (change <= state.cursor) state.pending.delete(change);
      // Something newer than the head we read may have arrived meanwhile.
      if (state.pending.size > 0) this.scheduleFill(room, state, 0);
    }
  }

  private deliver(state: RoomState, event: ChangeEvent): void {
    state.cursor = event.change;
    this.emit(state, event);
  }

  private emit(state: RoomState, event: RoomEvent): void {
    for (const listener of state.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One failing listener must not starve the others, nor break the Redis client's callback.
        this.options.onError?.(error, isChangeEvent(event) ? event.message.room : '');
      }
    }
  }
}
