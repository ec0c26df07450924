import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { EventBus, RoomEvent, RoomEventListener } from './event-bus.ts';
import { type RoomFeed, RoomSequencer } from './room-sequencer.ts';

export interface RedisEventBusOptions {
  url: string;
  /** Prefix of every channel (REDIS_PREFIX), e.g. "atlas:" gives "atlas:room:<name>". */
  prefix: string;
  /** The database, read to fill gaps and catch up after an outage. */
  feed: RoomFeed;
  /** How often each subscribed room's head is compared with what was delivered (lost PUBLISHes). */
  headCheckMs?: number;
  gapHoldMs?: number;
  /** Logs; called once per outage for connection trouble, not once per retry. */
  log?: { warn(details: object, message: string): void; info(details: object, message: string): void };
}

interface Envelope {
  /** The publishing instance: it delivered the event to its own listeners already. */
  o: string;
  e: RoomEvent;
}

/** How long a room's SUBSCRIBE may take before its subscribers start anyway (the head check covers it). */
const SUBSCRIBE_WAIT_MS = 2000;

const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);

/**
 * The event bus of shared mode (REDIS_URL): events go to this instance's listeners at once and to
 * every other instance through Redis pub/sub, one channel per room. An instance SUBSCRIBEs to a
 * room's channel while it has local subscribers there and UNSUBSCRIBEs when the last one leaves
 * (decision 018 says why not a pattern).
 *
 * Pub/sub is at-most-once and two instances' messages may cross on the way, so delivery goes
 * through a RoomSequencer, which fills gaps from the database and drops late or repeated
 * messages. While Redis is unreachable, posts still commit (publishing fails silently) and local
 * subscribers still get everything; other instances catch up from the database when their
 * subscriber connection is back, or within `headCheckMs` through the periodic head check.
 */
export class RedisEventBus implements EventBus {
  private readonly id = randomUUID();
  private readonly sequencer: RoomSequencer;
  // Publishing fails at once while disconnected (no offline queue): the database has the message.
  private readonly publisher;
  // SUBSCRIBE needs a connection of its own. Its commands wait offline and node-redis resubscribes
  // the rooms it knows after a reconnect.
  private readonly subscriber;
  private readonly headCheck: NodeJS.Timeout;
  private readonly onMessage = (raw: string, channel: string) => this.receive(raw, channel);
  private readonly controlHandlers: ((message: unknown) => void)[] = [];
  private outage = { publisher: false, subscriber: false };
  /**
   * Presence and typing lists from other instances are treated as notices: the shared trackers
   * re-read the state from Redis (two instances' lists may cross on the way, and the later read
   * is the true one). Without a handler they go to the listeners as they are.
   */
  private readonly stateHandlers: Partial<Record<'presence' | 'typing', (room: string) => void>> = {};
  private closed = false;

  constructor(private readonly options: RedisEventBusOptions) {
    const log = options.log;
    this.sequencer = new RoomSequencer(options.feed, {
      ...(options.gapHoldMs === undefined ? {} : { gapHoldMs: options.gapHoldMs }),
      onError: (error, room) =>
        log?.warn({ err: error, room }, 'live events: could not read the room from the database'),
    });
    const socket = { connectTimeout: 5000, reconnectStrategy: reconnectDelay };
    this.publisher = createClient({ url: options.url, socket, disableOfflineQueue: true, pingInterval: 5000 });
    this.subscriber = createClient({ url: options.url, socket, pingInterval: 5000 });
    for (const [name, client] of [
      ['publisher', this.publisher],
      ['subscriber', this.subscriber],
    ] as const) {
      client.on('error', (error: unknown) => {
        if (this.outage[name] || this.closed) return;
        this.outage[name] = true;
        log?.warn(
          { err: error },
          `Redis ${name} connection lost; live events go through the database until it is back`,
        );
      });
      client.on('ready', () => {
        if (this.outage[name]) log?.info({}, `Redis ${name} connection is back`);
        this.outage[name] = false;
        if (name === 'subscriber') this.afterReconnect();
      });
    }
    this.headCheck = setInterval(() => this.catchUpAll(), options.headCheckMs ?? 3000);
    this.headCheck.unref();
  }

  /** Connects both clients; resolves when both are ready or `timeoutMs` passed (they keep retrying). */
  async connect(timeoutMs = 5000): Promise<void> {
    const connecting = Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    connecting.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connecting.then(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** A connection for commands (shared presence, typing, rate limits); fails at once while Redis is away. */
  get commands() {
    return this.publisher;
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** Hands this instance's listeners of `room` an event without publishing it. */
  deliverLocally(room: string, event: RoomEvent): void {
    this.sequencer.receive(room, event);
  }

  /** Rooms this instance has listeners in. */
  localRooms(): string[] {
    return this.sequencer.roomNames();
  }

  /**
   * Instance-wide notices (ended sessions) on `<prefix>control`: `handler` gets every other
   * instance's `publishControl` payload. At-most-once, like everything on pub/sub.
   */
  onControl(handler: (message: unknown) => void): void {
    this.controlHandlers.push(handler);
    if (this.controlHandlers.length === 1) {
      this.subscriber
        .subscribe(`${this.options.prefix}control`, (raw) => {
          let envelope: { o: string; m: unknown };
          try {
            envelope = JSON.parse(raw) as { o: string; m: unknown };
          } catch {
            return;
          }
          if (envelope.o === this.id) return;
          for (const each of this.controlHandlers) each(envelope.m);
        })
        .catch(() => {});
    }
  }

  publishControl(message: unknown): void {
    if (this.closed || !this.publisher.isReady) return;
    this.publisher.publish(`${this.options.prefix}control`, JSON.stringify({ o: this.id, m: message })).catch(() => {});
  }

  /**
   * Takes a lock for `ms` (SET NX PX): true when this instance got it. Used so that one instance at a
   * time runs housekeeping. While Redis is unreachable nobody gets it, and the work waits.
   */
  async tryLock(name: string, ms: number): Promise<boolean> {
    const reply = await this.publisher.sendCommand([
      'SET',
      `${this.options.prefix}lock:${name}`,
      this.id,
      'NX',
      'PX',
      String(ms),
    ]);
    return String(reply) === 'OK';
  }

  onRemoteState(type: 'presence' | 'typing', handler: (room: string) => void): void {
    this.stateHandlers[type] = handler;
  }

  publish(room: string, event: RoomEvent): void {
    this.sequencer.receive(room, event);
    if (this.closed || !this.publisher.isReady) return;
    const envelope: Envelope = { o: this.id, e: event };
    this.publisher.publish(this.channel(room), JSON.stringify(envelope)).catch(() => {
      // Lost: the database has the message; other instances fill it as a gap or by the head check.
    });
  }

  subscribe(room: string, listener: RoomEventListener): () => void {
    const unsubscribe = this.sequencer.subscribe(room, listener, () => this.subscribeChannel(room));
    return () => {
      unsubscribe();
      if (!this.sequencer.has(room) && !this.closed) {
        this.subscriber.unsubscribe(this.channel(room), this.onMessage).catch(() => {});
      }
    };
  }

  ready(room: string): Promise<void> {
    return this.sequencer.ready(room);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.headCheck);
    this.sequencer.close();
    // Gracefully, so the last PUBLISHes (presence after a shutdown) go out; but never wait long.
    await Promise.all(
      [this.publisher, this.subscriber].map(async (client) => {
        if (!client.isOpen) return;
        if (client.isReady) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            client.close().catch(() => {}),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, 1000);
            }),
          ]).finally(() => clearTimeout(timer));
        }
        if (client.isOpen) client.destroy();
      }),
    );
  }

  private channel(room: string): string {
    return `${this.options.prefix}room:${room}`;
  }

  private async subscribeChannel(room: string): Promise<void> {
    const subscribing = this.subscriber.subscribe(this.channel(room), this.onMessage);
    // While Redis is away the SUBSCRIBE waits offline; subscribers start at once, and the head
    // check and the catch-up after the reconnect bring what they miss meanwhile.
    if (!this.subscriber.isReady) {
      subscribing.catch(() => {});
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscribing,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private receive(raw: string, channel: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.o === this.id) return;
    const room = channel.slice(this.options.prefix.length + 'room:'.length);
    const { type } = envelope.e;
    const handler = type === 'presence' || type === 'typing' ? this.stateHandlers[type] : undefined;
    if (handler) handler(room);
    else this.sequencer.receive(room, envelope.e);
  }

  /** After the subscriber reconnects: (re)subscribe every room and fill what was missed meanwhile. */
  private afterReconnect(): void {
    for (const room of this.sequencer.roomNames()) {
      // A no-op for rooms node-redis resubscribed itself; needed for those whose SUBSCRIBE failed.
      this.subscriber.subscribe(this.channel(room), this.onMessage).catch(() => {});
    }
    this.catchUpAll();
  }

  private catchUpAll(): void {
    this.sequencer.catchUpAll().catch((error: unknown) => {
      this.options.log?.warn({ err: error }, 'live events: the head check could not read the rooms');
    });
  }
}
