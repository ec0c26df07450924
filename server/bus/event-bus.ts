import type { MessageDto } from '../schemas.ts';

/**
 * A post (`message`) or an edit, delete or reaction change (`update`, the whole message after it).
 * `change` is the room's change counter after it (decision 019): it orders a room's changes and
 * builds live event ids. It stays on the server: clients get `{type, message}` (see wireChange).
 */
export type ChangeEvent =
  | { type: 'message'; message: MessageDto; change: number }
  | { type: 'update'; message: MessageDto; change: number };

/**
 * Notices that never reach a client as they are (issue 13):
 * - `left`, on a room's channel: that user left the room; their rooms.events streams of it end,
 *   on every instance, which drops them from presence.
 * - `mine`, on a user's channel (userChannel): that user's read marker or membership of `room`
 *   changed (markRead, join, leave, from any tab or instance); their me.events streams re-read it.
 */
export type NoticeEvent = { type: 'left'; userId: number } | { type: 'mine'; room: string; roomId: number };

export type RoomEvent =
  | ChangeEvent
  | { type: 'presence'; online: string[] }
  | { type: 'typing'; usernames: string[] }
  | NoticeEvent;

export const isChangeEvent = (event: RoomEvent): event is ChangeEvent =>
  event.type === 'message' || event.type === 'update';

/**
 * The channel of one user's notices. Room names are `[a-z0-9_-]`, so no room can be called this;
 * it goes through the same bus (and, in shared mode, the same Redis channel namespace) as rooms,
 * whose sequencer passes non-change events through as they come.
 */
export const userChannel = (userId: number) => `user:${userId}`;

export type RoomEventListener = (event: RoomEvent) => void;

/**
 * Carries room events to live subscribers. The routers only see this interface, so a Redis or
 * PostgreSQL LISTEN/NOTIFY implementation for several server processes can replace the in-process
 * one without touching them. Messages are published after their transaction commits; the database
 * stays the source of truth, and subscribers backfill from it rather than from the bus.
 */
export interface EventBus {
  publish(room: string, event: RoomEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(room: string, listener: RoomEventListener): () => void;
  /**
   * Resolves once a subscription to `room` made before the call receives every message committed
   * after it resolves (Redis: the room's channel is subscribed). Read the database only then.
   */
  ready(room: string): Promise<void>;
  close(): Promise<void>;
}

export class InProcessEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<RoomEventListener>>();

  publish(room: string, event: RoomEvent): void {
    const roomListeners = this.listeners.get(room);
    if (!roomListeners) return;
    for (const listener of roomListeners) listener(event);
  }

  subscribe(room: string, listener: RoomEventListener): () => void {
    let roomListeners = this.listeners.get(room);
    if (!roomListeners) {
      roomListeners = new Set();
      this.listeners.set(room, roomListeners);
    }
    roomListeners.add(listener);
    return () => {
      roomListeners.delete(listener);
      if (roomListeners.size === 0 && this.listeners.get(room) === roomListeners) this.listeners.delete(room);
    };
  }

  ready(_room: string): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
