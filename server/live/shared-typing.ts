import type { RedisEventBus } from '../bus/redis-event-bus.ts';
import type { RedisCommands } from './shared-presence.ts';
import { REFRESH_THROTTLE_MS, TYPING_TTL_MS, type Typing } from './typing.ts';

/**
 * Typing indicators across instances (shared mode). Each room has a sorted set in Redis,
 * `<prefix>typing:<room>`, of usernames scored by the time their indicator expires (TYPING_TTL_MS
 * after the last refresh). Whichever instance a post arrives on removes its author, so a post on A
 * clears the indicator that B shows.
 *
 * After a change the instance reads the set and publishes the list; other instances take it as a
 * notice and read the set themselves (lists can cross on the way). Each instance also re-reads a
 * room it shows when its earliest entry expires, so an indicator of a killed instance still goes.
 */
export class SharedTyping implements Typing {
  /** When this instance last refreshed each user's entry (throttling), room → username → time. */
  private readonly refreshed = new Map<string, Map<string, number>>();
  private readonly shown = new Map<string, string[]>();
  private readonly expiries = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly bus: RedisEventBus,
    private readonly redis: RedisCommands,
    private readonly now: () => number = Date.now,
  ) {
    bus.onRemoteState('typing', (room) => this.show(room, false));
  }

  typing(room: string): string[] {
    return this.shown.get(room) ?? [];
  }

  touch(room: string, username: string): void {
    let users = this.refreshed.get(room);
    if (!users) {
      users = new Map();
      this.refreshed.set(room, users);
    }
    const last = users.get(username);
    const now = this.now();
    if (last !== undefined && now - last < REFRESH_THROTTLE_MS) return;
    users.set(username, now);
    this.change(room, ['ZADD', this.key(room), String(now + TYPING_TTL_MS), username], last === undefined);
  }

  clear(room: string, username: string): void {
    const users = this.refreshed.get(room);
    users?.delete(username);
    if (users?.size === 0) this.refreshed.delete(room);
    // Every post clears its author: only a removal that happened is worth a read and a PUBLISH.
    this.redis
      .sendCommand(['ZREM', this.key(room), username])
      .then((removed) => {
        if (Number(removed) > 0) return this.show(room, true);
      })
      .catch(() => {});
  }

  close(): void {
    this.closed = true;
    for (const timer of this.expiries.values()) clearTimeout(timer);
    this.expiries.clear();
    this.refreshed.clear();
  }

  private key(room: string): string {
    return `${this.bus.prefix}typing:${room}`;
  }

  private change(room: string, command: string[], publish: boolean): void {
    this.redis
      .sendCommand(command)
      .then(() => this.redis.sendCommand(['PEXPIRE', this.key(room), String(4 * TYPING_TTL_MS)]))
      .then(() => {
        if (publish || !this.shown.has(room)) return this.show(room, true);
      })
      .catch(() => {});
  }

  /** Reads the room's indicators and hands them to this instance's listeners (and, with `publish`, the others). */
  private async show(room: string, publish: boolean): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    let usernames: string[];
    let earliest = Number.POSITIVE_INFINITY;
    try {
      const reply = (await this.redis.sendCommand([
        'ZRANGEBYSCORE',
        this.key(room),
        `(${now}`,
        '+inf',
        'WITHSCORES',
      ])) as unknown[];
      usernames = [];
      // RESP3 answers [[member, score], …]; RESP2 a flat [member, score, …].
      const pairs = Array.isArray(reply[0])
        ? (reply as [string, number | string][])
        : reply.flatMap((item, index) => (index % 2 === 0 ? [[item, reply[index + 1]] as [string, string]] : []));
      for (const [username, score] of pairs) {
        usernames.push(String(username));
        earliest = Math.min(earliest, Number(score));
      }
      usernames.sort();
    } catch {
      return;
    }
    const before = JSON.stringify(this.shown.get(room) ?? []);
    if (usernames.length > 0) this.shown.set(room, usernames);
    else this.shown.delete(room);
    this.scheduleExpiry(room, earliest);
    const event = { type: 'typing', usernames } as const;
    if (publish) this.bus.publish(room, event);
    else if (JSON.stringify(usernames) !== before) this.bus.deliverLocally(room, event);
  }

  private scheduleExpiry(room: string, at: number): void {
    const existing = this.expiries.get(room);
    if (existing) clearTimeout(existing);
    this.expiries.delete(room);
    if (!Number.isFinite(at) || this.closed) return;
    const timer = setTimeout(
      () => {
        this.expiries.delete(room);
        this.show(room, false).catch(() => {});
      },
      Math.max(0, at - this.now()) + 10,
    );
    timer.unref();
    this.expiries.set(room, timer);
  }
}
