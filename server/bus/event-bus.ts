import type { MessageDto } from '../schemas.ts';

export type RoomEvent = { type: 'message'; message: MessageDto };

export type RoomEventListener = (event: RoomEvent) => void;

/**
 * Carries committed room events to live subscribers. The routers only see this interface, so a
 * Redis or PostgreSQL LISTEN/NOTIFY implementation for several server processes can replace the
 * in-process one without touching them. The database stays the source of truth: subscribers
 * backfill from it and use the bus only for what happens next.
 */
export interface EventBus {
  publish(room: string, event: RoomEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(room: string, listener: RoomEventListener): () => void;
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

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
