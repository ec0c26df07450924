import type { RedisEventBus } from '../bus/redis-event-bus.ts';
import { PRESENCE_COALESCE_MS, type Presence } from './presence.ts';
import { RoomConnections } from './room-connections.ts';

/** How long an instance's presence entries live without renewal: a SIGKILLed instance's users go offline after it. */
export const SHARED_PRESENCE_TTL_MS = 30_000;
/** How often an instance renews its entries and re-reads the rooms it shows (expired entries show up here). */
export const SHARED_PRESENCE_RENEW_MS = 10_000;

export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * Presence across instances (shared mode): a user is online in a room while any instance holds one
 * of their subscriptions there.
 *
 * Each room has a sorted set in Redis, `<prefix>presence:<room>`, of `<instance>\n<username>` scored
 * by expiry time. An instance adds its entry when a user's first subscription to the room opens
 * there, removes it when the last one closes, and renews every entry it holds every
 * SHARED_PRESENCE_RENEW_MS. A killed instance's entries stop being renewed and expire after
 * SHARED_PRESENCE_TTL_MS; a clean shutdown removes them at once.
 *
 * After a change the instance reads the room's list (entries not yet expired, names once) and
 * publishes it. Other instances take a published list only as a notice and read the set themselves,
 * since two instances' lists can cross on the way. Every instance also re-reads the rooms it shows at
 * each renewal, which is how expired entries disappear from view.
 *
 * While Redis is unreachable, each instance shows the users it holds itself, and rewrites its
 * entries at the next renewal after Redis is back.
 */
export class SharedPresence implements Presence {
  /** This instance's subscriptions per room and user. */
  private readonly local = new RoomConnections();
  /** The last list read from Redis, per room with local subscribers. */
  private readonly shown = new Map<string, string[]>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly renewal: NodeJS.Timeout;
  private readonly instance: string;
  private closed = false;

  constructor(
    private readonly bus: RedisEventBus,
    private readonly redis: RedisCommands,
    private readonly options: { ttlMs?: number; renewMs?: number; now?: () => number } = {},
  ) {
    this.instance = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    bus.onRemoteState('presence', (room) => this.refresh(room));
    this.renewal = setInterval(() => this.renew(), options.renewMs ?? SHARED_PRESENCE_RENEW_MS);
    this.renewal.unref();
  }

  online(room: string): string[] {
    const names = new Set([...(this.shown.get(room) ?? []), ...this.local.usernames(room)]);
    return [...names].sort();
  }

  async onlineUsernames(room: string): Promise<ReadonlySet<string>> {
    try {
      return new Set([...(await this.read(room)), ...this.local.usernames(room)]);
    } catch {
      return new Set(this.online(room));
    }
  }

  connect(room: string, username: string): () => void {
    if (this.closed) return () => {};
    if (this.local.add(room, username)) {
      this.write(room, ['ZADD', this.key(room), String(this.expiry()), this.member(username)]);
    }
    let released = false;
    return () => {
      if (released || this.closed) return;
      released = true;
      if (!this.local.remove(room, username)) return;
      if (!this.local.has(room)) this.shown.delete(room);
      this.write(room, ['ZREM', this.key(room), this.member(username)]);
    };
  }

  /** Removes this instance's entries and tells the other instances, so they update at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewal);
    // Rooms with a change not yet announced (subscriptions that ended as the sockets closed) too.
    const local = new Map(this.local.entries());
    const rooms = new Set([...local.keys(), ...this.scheduled.keys()]);
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    this.local.clear();
    this.shown.clear();
    await Promise.all(
      [...rooms].map(async (room) => {
        try {
          const users = local.get(room) ?? [];
          if (users.length > 0) {
            await this.redis.sendCommand(['ZREM', this.key(room), ...users.map((user) => this.member(user))]);
          }
          this.bus.publish(room, { type: 'presence', online: await this.read(room) });
        } catch {
          // Redis is away: the entries expire by themselves.
        }
      }),
    );
  }

  private key(room: string): string {
    return `${this.bus.prefix}presence:${room}`;
  }

  private member(username: string): string {
    return `${this.instance}\n${username}`;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private expiry(): number {
    return this.now() + (this.options.ttlMs ?? SHARED_PRESENCE_TTL_MS);
  }

  /** Names with an unexpired entry, sorted, each once. */
  private async read(room: string): Promise<string[]> {
    const members = (await this.redis.sendCommand([
      'ZRANGEBYSCORE',
      this.key(room),
      String(this.now()),
      '+inf',
    ])) as string[];
    return [...new Set(members.map((member) => member.slice(member.indexOf('\n') + 1)))].sort();
  }

  /** Applies a change in Redis, then publishes the room's list once the coalescing window ends. */
  private write(room: string, command: string[]): void {
    this.redis
      .sendCommand(command)
      .catch(() => {})
      .finally(() => this.schedule(room, true));
  }

  /** A notice from another instance: re-read the room (coalesced), show it here only. */
  private refresh(room: string): void {
    if (this.local.has(room)) this.schedule(room, false);
  }

  private schedule(room: string, publish: boolean): void {
    const existing = this.scheduled.get(room);
    if (existing && !publish) return;
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.scheduled.delete(room);
      this.show(room, publish).catch(() => {});
    }, PRESENCE_COALESCE_MS);
    timer.unref();
    this.scheduled.set(room, timer);
  }

  private async show(room: string, publish: boolean): Promise<void> {
    let online: string[];
    try {
      const read = await this.read(room);
      if (this.local.has(room)) this.shown.set(room, read);
      online = this.online(room);
    } catch {
      online = this.online(room);
    }
    const event = { type: 'presence', online } as const;
    if (publish) this.bus.publish(room, event);
    else this.bus.deliverLocally(room, event);
  }

  /** Renews this instance's entries, drops expired ones, and re-reads every room shown here. */
  private renew(): void {
    const expiry = String(this.expiry());
    for (const [room, users] of this.local.entries()) {
      const entries = users.flatMap((user) => [expiry, this.member(user)]);
      this.redis
        .sendCommand(['ZADD', this.key(room), ...entries])
        .then(() => this.redis.sendCommand(['ZREMRANGEBYSCORE', this.key(room), '-inf', `(${this.now()}`]))
        .then(() =>
          this.redis.sendCommand([
            'PEXPIRE',
            this.key(room),
            String(2 * (this.options.ttlMs ?? SHARED_PRESENCE_TTL_MS)),
          ]),
        )
        .catch(() => {})
        .finally(() => {
          const before = JSON.stringify(this.online(room));
          this.read(room)
            .then((read) => {
              if (!this.local.has(room)) return;
              this.shown.set(room, read);
              const online = this.online(room);
              if (JSON.stringify(online) !== before) this.bus.deliverLocally(room, { type: 'presence', online });
            })
            .catch(() => {});
        });
    }
  }
}
