import type { MessageDto } from '../schemas.ts';

/**
 * A post (`message`) or an edit, delete or reaction change (`update`, the whole message after it).
 * `change` is the room's change counter after it (decision 019): it orders a room's changes and
 * builds live event ids. It stays on the server: clients get `{type, message}` (see wireChange).
 */
export type ChangeEvent =
  | { type: 'message'; message: MessageDto; change: number }
  | { type: 'update'; message: MessageDto; change: number };

export type RoomEvent = ChangeEvent | { type: 'presence'; online: string[] } | { type: 'typing'; usernames: string[] };

export const isChangeEvent = (event: RoomEvent): event is ChangeEvent =>
  event.type === 'message' || event.type === 'update';

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
