import type { EventBus } from '../bus/event-bus.ts';
import { RoomConnections } from './room-connections.ts';

/**
 * Changes within this window are published as one presence event. Without it, N members joining
 * at once (every client reconnecting after a restart) cost O(N²) frames of O(N) names each; the
 * benchmark's join storm of 1000 users took 80 s and 4 GB of frames before coalescing.
 */
export const PRESENCE_COALESCE_MS = 100;

/** Who is online where; PresenceTracker for one instance, SharedPresence (shared-presence.ts) across instances. */
export interface Presence {
  /** The room's online list as this instance knows it now (a stream's first presence event). */
  online(room: string): string[];
  /** Who is online in the room (the member list), read from the shared state where there is one. */
  onlineUsernames(room: string): ReadonlySet<string> | Promise<ReadonlySet<string>>;
  /** Counts one more connection of `username` to `room`; the returned function releases it once. */
  connect(room: string, username: string): () => void;
  close(): void | Promise<void>;
}

/**
 * Who is connected to which room: a user is online in a room while at least one of their
 * subscriptions to it is open, so many tabs count once. Changes are published on the bus.
 */
export class PresenceTracker implements Presence {
  private readonly rooms = new RoomConnections();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();

  constructor(private readonly bus: EventBus) {}

  onlineUsernames(room: string): ReadonlySet<string> {
    return new Set(this.rooms.usernames(room));
  }

  online(room: string): string[] {
    return this.rooms.usernames(room).sort();
  }

  /** Counts one more connection of `username` to `room`; the returned function releases it once. */
  connect(room: string, username: string): () => void {
    if (this.rooms.add(room, username)) this.publish(room);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.rooms.remove(room, username)) this.publish(room);
    };
  }

  close(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  /** Publishes the room's online list as it is when the coalescing window ends. */
  private publish(room: string): void {
    if (this.scheduled.has(room)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(room);
      this.bus.publish(room, { type: 'presence', online: this.online(room) });
    }, PRESENCE_COALESCE_MS);
    timer.unref();
    this.scheduled.set(room, timer);
  }
}
