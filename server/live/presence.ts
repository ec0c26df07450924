import type { EventBus } from '../bus/event-bus.ts';

/**
 * Who is connected to which room: a user is online in a room while at least one of their
 * subscriptions to it is open, so many tabs count once. Changes are published on the bus.
 */
export class PresenceTracker {
  private readonly rooms = new Map<string, Map<string, number>>();

  constructor(private readonly bus: EventBus) {}

  onlineUsernames(room: string): ReadonlySet<string> {
    return new Set(this.rooms.get(room)?.keys());
  }

  online(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])].sort();
  }

  /** Counts one more connection of `username` to `room`; the returned function releases it once. */
  connect(room: string, username: string): () => void {
    let users = this.rooms.get(room);
    if (!users) {
      users = new Map();
      this.rooms.set(room, users);
    }
    const before = users.get(username) ?? 0;
    users.set(username, before + 1);
    if (before === 0) this.publish(room);

    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.rooms.get(room);
      const count = current?.get(username) ?? 0;
      if (!current || count === 0) return;
      if (count > 1) {
        current.set(username, count - 1);
        return;
      }
      current.delete(username);
      if (current.size === 0) this.rooms.delete(room);
      this.publish(room);
    };
  }

  private publish(room: string): void {
    this.bus.publish(room, { type: 'presence', online: this.online(room) });
  }
}
