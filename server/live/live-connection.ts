import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';
import type { LiveSettings } from './live-settings.ts';
import { TokenBucket } from './token-bucket.ts';
import { readStopIds, type SubscriptionTag } from './trpc-wire.ts';
import { directStream } from './ws-frame.ts';

/** Close codes the server sends on a tRPC WebSocket (besides 1009 for an oversized frame). */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_SESSION_ENDED = 4401;

/**
 * Every incoming frame and every refused call counts against a second budget this many times the
 * call budget; a connection that exhausts it is flooding and is closed (1008). Generous on
 * purpose: 1,000 calls sent at once are answered (100 run, 900 get TOO_MANY_REQUESTS), not cut off.
 */
export const FLOOD_FACTOR = 30;
/** History replay waits while the socket holds more than maxBufferedBytes / this. */
const CATCH_UP_LOW_WATER_DIVISOR = 4;
const DRAIN_POLL_MS = 20;
/** A replay whose socket does not drain below the low-water mark for this long is dropped. */
export const CATCH_UP_STALL_MS = 30_000;
/** After a close frame, how long a client has to answer before the connection is cut. */
const CLOSE_GRACE_MS = 2000;
/** A socket whose session ended closes once its calls in flight are answered, or after this anyway. */
const IN_FLIGHT_GRACE_MS = 5000;
/** Stops that overtook their subscription's start are remembered this long (and at most this many). */
const EARLY_STOP_MS = 10_000;
const MAX_EARLY_STOPS = 64;

const idKey = (id: number | string) => `${typeof id}:${id}`;

export interface SubscriptionSlot {
  /** Aborts when the subscription must stop: the client stopped it, or its connection is ending. */
  signal: AbortSignal;
  /** Frees the slot (idempotent); also runs when `signal` aborts. */
  release(): void;
}

const closedError = () => new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'The connection is closed' });

/**
 * One open tRPC WebSocket once its context is made: who opened it, what it subscribes to, its
 * call budget, and flow control for history replay. A connection that is ending (session ended,
 * flooding, too slow) runs no more calls and delivers no more events.
 */
export class LiveConnection {
  private readonly ending = new AbortController();
  /**
   * Mirrors `ending.signal.aborted`: the broadcaster asks once per socket per message, and
   * AbortSignal's getter (with its receiver check) cost 7% of the server's CPU in the fan-out
   * profile, as much as the rest of the delivery loop.
   */
  private isEnded = false;
  /** Subscription request id key → the resource it follows (e.g. `room "general"`). */
  private readonly subscriptions = new Map<string, string>();
  /** Subscription request id key → aborts it when the client's stop arrives: see onFrame. */
  private readonly stoppers = new Map<string, AbortController>();
  /** Stops for ids not (yet) subscribed, with when they came: see onFrame. */
  private readonly earlyStops = new Map<string, number>();
  private readonly resources = new Set<string>();
  private readonly calls: TokenBucket | null;
  private readonly flood: TokenBucket | null;
  private inFlight = 0;
  private closeFrame: { code: number; reason: string } | null = null;
  private closeScheduled = false;
  private catchUpBusy = false;
  private catchUpWaiters: Array<() => void> = [];
  private untagged = 0;
  private sessionCheck: Promise<boolean> | null = null;

  /** Where the broadcaster writes its prebuilt frames (ws-frame.ts), or null to use `socket.send`. */
  readonly frameStream: Duplex | null;

  constructor(
    readonly socket: WebSocket,
    readonly userId: number | null,
    readonly sessionId: number | null,
    readonly ip: string,
    private readonly settings: LiveSettings,
  ) {
    this.frameStream = directStream(socket);
    const budget = settings.calls;
    this.calls = budget ? new TokenBucket(budget.burst, budget.ratePerSecond) : null;
    this.flood = budget ? new TokenBucket(budget.burst * FLOOD_FACTOR, budget.ratePerSecond * FLOOD_FACTOR) : null;
    // Ahead of tRPC's own listener: junk frames (which never reach a procedure) count too.
    socket.prependListener('message', (data: Buffer) => this.onFrame(data));
    socket.once('close', () => this.finish(closedError()));
  }

  /** Aborts when the connection ends; its reason is the error further calls get. */
  get signal(): AbortSignal {
    return this.ending.signal;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  /** Every end goes through here, so `ended` and the signal agree. */
  private finish(reason: Error): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.ending.abort(reason);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /**
   * Ends the connection: from now on no call runs and no event is delivered; the socket closes
   * with `close` once the calls in flight have been answered (so a sign-out over this very socket
   * still gets its answer).
   */
  end(reason: TRPCError, close: { code: number; reason: string }): void {
    if (this.ended) return;
    this.finish(reason);
    this.closeFrame = close;
    if (this.inFlight === 0) this.scheduleClose();
    else setTimeout(() => this.scheduleClose(), IN_FLIGHT_GRACE_MS).unref();
  }

  /** Cuts the connection without a close handshake: the client reconnects and resumes from its last ids. */
  drop(): void {
    this.finish(closedError());
    this.socket.terminate();
  }

  /** True (and the socket dropped) when its unsent data passed the cap: it reads too slowly. */
  tooSlow(): boolean {
    if (this.socket.bufferedAmount <= this.settings.maxBufferedBytes) return false;
    this.drop();
    return true;
  }

  /** Checks one procedure call arriving on this socket; throws when it must not run. */
  admitCall(): void {
    if (this.ended) throw this.ending.signal.reason;
    if (this.tooSlow()) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Too many unread answers on this connection' });
    }
    if (!this.calls || !this.settings.calls) return;
    const decision = this.calls.take();
    if (decision.allowed) return;
    this.countTowardsFlood();
    const { burst, ratePerSecond } = this.settings.calls;
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many calls on this connection (at most ${burst} at once, then ${ratePerSecond} per second); try again in ${Math.max(1, decision.retryAfterSeconds)} s`,
    });
  }

  callStarted(): void {
    this.inFlight += 1;
  }

  callFinished(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.closeFrame) this.scheduleClose();
  }

  /**
   * Takes one of this socket's subscription slots for `resource`: at most one per resource and
   * `maxSubscriptionsPerSocket` in all. Throws a clear error otherwise.
   */
  claimSubscription(tag: SubscriptionTag | undefined, resource: string, signal: AbortSignal): SubscriptionSlot {
    if (this.ended) throw this.ending.signal.reason;
    // Stopped while its procedure awaited the database (room, membership): an aborted signal never
    // fires 'abort' again, so a slot claimed now would never be released.
    if (signal.aborted) throw new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'Stopped before it started' });
    this.untagged += 1;
    const key = tag ? idKey(tag.id) : `untagged:${this.untagged}`;
    const stoppedAt = this.earlyStops.get(key);
    if (stoppedAt !== undefined) {
      this.earlyStops.delete(key);
      if (Date.now() - stoppedAt < EARLY_STOP_MS) {
        throw new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'Stopped before it started' });
      }
    }
    if (this.subscriptions.has(key)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${tag?.id}: a subscription with it is open` });
    }
    if (this.resources.has(resource)) {
      throw new TRPCError({
        code: 'CONFLICT',
        message: `This connection already follows ${resource}: one subscription per room per connection`,
      });
    }
    const max = this.settings.maxSubscriptionsPerSocket;
    if (this.subscriptions.size >= max) {
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `At most ${max} subscriptions per connection; stop one before starting another`,
      });
    }
    this.subscriptions.set(key, resource);
    this.resources.add(resource);
    const stopper = new AbortController();
    this.stoppers.set(key, stopper);
    const ending = this.ending.signal;
    const sources = [signal, ending, stopper.signal];
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const source of sources) source.removeEventListener('abort', release);
      this.subscriptions.delete(key);
      this.stoppers.delete(key);
      this.resources.delete(resource);
    };
    // On the sources themselves: a signal from AbortSignal.any is only weakly held by them.
    for (const source of sources) source.addEventListener('abort', release, { once: true });
    return { signal: AbortSignal.any(sources), release };
  }

  /**
   * Waits for this socket's turn to replay history, one subscription at a time, so a socket with
   * many subscriptions holds at most one page of backlog in memory. Resolves to the function that
   * ends the turn, or null when `signal` aborted first.
   */
  async catchUpTurn(signal: AbortSignal): Promise<(() => void) | null> {
    while (this.catchUpBusy) {
      if (signal.aborted) return null;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.catchUpWaiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    if (signal.aborted) return null;
    this.catchUpBusy = true;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.catchUpBusy = false;
      // Every waiter re-checks; the first to run takes the next turn.
      const waiters = this.catchUpWaiters;
      this.catchUpWaiters = [];
      for (const wake of waiters) wake();
    };
  }

  /**
   * Resolves true once the socket's unsent data is below the low-water mark (a quarter of the
   * cap), false when `signal` aborts or the socket closes. A socket that does not drain for
   * CATCH_UP_STALL_MS is dropped as too slow.
   */
  async drained(signal: AbortSignal): Promise<boolean> {
    const lowWater = this.settings.maxBufferedBytes / CATCH_UP_LOW_WATER_DIVISOR;
    const deadline = Date.now() + CATCH_UP_STALL_MS;
    // ws has no 'drain' event of its own; polling a getter every 20 ms costs nothing measurable.
    while (this.socket.bufferedAmount > lowWater) {
      if (signal.aborted || this.socket.readyState !== this.socket.OPEN) return false;
      if (Date.now() > deadline) {
        this.drop();
        return false;
      }
      await sleep(DRAIN_POLL_MS, undefined, { signal }).catch(() => {});
    }
    return !signal.aborted && this.socket.readyState === this.socket.OPEN;
  }

  /**
   * One session lookup at a time per connection: the calls that arrive while it runs share its
   * answer. They then go on in arrival order (a PostgreSQL pool could answer separate lookups out
   * of order, so a second subscription to a room could overtake the first), and a burst of calls
   * costs one query, not one each. The answer is at most one round trip old.
   */
  checkSession(lookup: () => Promise<boolean>): Promise<boolean> {
    this.sessionCheck ??= lookup().finally(() => {
      this.sessionCheck = null;
    });
    return this.sessionCheck;
  }

  /** Frames that arrived while this connection's context was being made (see createContextFactory). */
  seeEarlyFrames(frames: readonly Buffer[]): void {
    for (const frame of frames) this.onFrame(frame);
  }

  /**
   * Sees every frame before tRPC does. Counts it towards the flood budget, and remembers a
   * `subscription.stop` for an id that has no subscription yet: when a start and its stop arrive
   * in one read, tRPC handles the stop before the start has registered (its set-up awaits) and
   * ignores it, leaving a subscription the client has forgotten; it would then hold the room's
   * slot on this socket and refuse the client's next subscription to it (seen in the churn test).
   * A stop for a subscription whose procedure is still running ends it through its slot.
   */
  private onFrame(data: Buffer): void {
    this.countTowardsFlood();
    if (!Buffer.isBuffer(data) || !data.includes('subscription.stop')) return;
    const now = Date.now();
    for (const id of readStopIds(data.toString())) {
      const key = idKey(id);
      const stopper = this.stoppers.get(key);
      if (stopper) {
        // tRPC ignores a stop that arrives while the subscription's procedure still awaits (it
        // registers the id only once the procedure returned), so the slot ends it itself too.
        stopper.abort(new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'Stopped by the client' }));
        continue;
      }
      this.earlyStops.set(key, now);
      for (const [old, at] of this.earlyStops) {
        if (this.earlyStops.size <= MAX_EARLY_STOPS && now - at < EARLY_STOP_MS) break;
        this.earlyStops.delete(old);
      }
    }
  }

  private countTowardsFlood(): void {
    if (!this.flood || this.ended || this.flood.take().allowed) return;
    this.finish(new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Too many messages: connection closed' }));
    this.closeFrame = { code: CLOSE_POLICY_VIOLATION, reason: 'too many messages' };
    this.scheduleClose();
  }

  private scheduleClose(): void {
    const frame = this.closeFrame;
    if (this.closeScheduled || !frame) return;
    this.closeScheduled = true;
    // tRPC sends a call's answer in the microtasks after the call returns; setImmediate runs after
    // them, and ws writes the close frame after any data already queued.
    setImmediate(() => {
      if (this.socket.readyState === this.socket.CLOSED) return;
      this.socket.close(frame.code, frame.reason);
      setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    });
  }
}
