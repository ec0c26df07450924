import type { EventBus } from '../bus/event-bus.ts';

export const TYPING_TTL_MS = 5000;
/** Repeated "typing" calls within this window neither extend the timer nor touch the bus. */
export const REFRESH_THROTTLE_MS = 1000;

interface TypingEntry {
  refreshedAt: number;
  timer: NodeJS.Timeout;
}

/** Who is typing where; TypingTracker for one instance, SharedTyping (shared-typing.ts) across instances. */
export interface Typing {
  typing(room: string): string[];
  touch(room: string, username: string): void;
  /** Called when the user posts or leaves: they are no longer typing. */
  clear(room: string, username: string): void;
  close(): void | Promise<void>;
}

/** Who is typing in which room; an entry expires TYPING_TTL_MS after its last refresh. */
export class TypingTracker implements Typing {
  private readonly rooms = new Map<string, Map<string, TypingEntry>>();

  constructor(
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  typing(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])].sort();
  }

  touch(room: string, username: string): void {
    let users = this.rooms.get(room);
    if (!users) {
      users = new Map();
      this.rooms.set(room, users);
    }
    const existing = users.get(username);
    const now = this.now();
    if (existing && now - existing.refreshedAt < REFRESH_THROTTLE_MS) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.clear(room, username), TYPING_TTL_MS);
    timer.unref();
    users.set(username, { refreshedAt: now, timer });
    if (!existing) this.publish(room);
  }

  /** Called when the user posts or leaves: they are no longer typing. */
  clear(room: string, username: string): void {
    const users = this.rooms.get(room);
    const entry = users?.get(username);
    if (!users || !entry) return;
    clearTimeout(entry.timer);
    users.delete(username);
    if (users.size === 0) this.rooms.delete(room);
    this.publish(room);
  }

  close(): void {
    for (const users of this.rooms.values()) for (const entry of users.values()) clearTimeout(entry.timer);
    this.rooms.clear();
  }

  private publish(room: string): void {
    this.bus.publish(room, { type: 'typing', usernames: this.typing(room) });
  }
}
