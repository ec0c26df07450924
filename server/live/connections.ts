import type { Socket } from 'node:net';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';
import {
  CLOSE_POLICY_VIOLATION,
  CLOSE_SESSION_ENDED,
  LiveConnection,
  type SubscriptionSlot,
} from './live-connection.ts';
import type { LiveSettings } from './live-settings.ts';

/** What the server knows about one open tRPC WebSocket once its context is made. */
export interface LiveSocketInfo {
  socket: WebSocket;
  /** null for a socket opened without a (valid) session. */
  userId: number | null;
  sessionId: number | null;
  /** The client IP, resolved the same way as for HTTP requests. */
  ip: string;
}

/** A live channel a session can be revoked from: a WebSocket, or an SSE stream. */
interface Channel {
  end(reason: TRPCError, close: { code: number; reason: string }): void;
}

export const sessionEndedError = () =>
  new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended (signed out or expired); sign in again' });

/**
 * The open live channels (tRPC WebSockets and SSE streams): counted per user and per client IP
 * against their caps, and listed by session, so revoking a session (sign-out, sign-out-all,
 * password change, expiry) ends its channels and a socket never outlives the session that opened it.
 */
export class ConnectionRegistry {
  private announce: ((sessionIds: readonly number[]) => void) | null = null;
  private readonly bySession = new Map<number, Set<Channel>>();
  private readonly perUser = new Map<number, number>();
  private readonly perIp = new Map<string, number>();
  private readonly sockets = new Set<LiveConnection>();
  private streams = 0;

  constructor(readonly settings: LiveSettings) {}

  /**
   * At a WebSocket upgrade, before anything else is spent on it: counts the connection against
   * its IP until the TCP socket closes. Returns why it is refused, or null.
   */
  admitUpgrade(ip: string, tcpSocket: Socket): string | null {
    const refusal = this.ipRefusal(ip);
    if (refusal) return refusal;
    this.count(this.perIp, ip, 1);
    tcpSocket.once('close', () => this.count(this.perIp, ip, -1));
    return null;
  }

  /** Records a WebSocket whose context is being made; throws TOO_MANY_REQUESTS past the per-user cap. */
  open(info: LiveSocketInfo): LiveConnection {
    const { socket, userId, sessionId, ip } = info;
    if (userId !== null) {
      try {
        this.checkUser(userId);
      } catch (error) {
        // tRPC answers a failed context with an error frame (id null), then closes without a code;
        // this runs after that answer and gives the close a code and a reason a client can show.
        setImmediate(() => socket.close(CLOSE_POLICY_VIOLATION, 'too many connections for this user'));
        throw error;
      }
    }
    const connection = new LiveConnection(socket, userId, sessionId, ip, this.settings);
    this.sockets.add(connection);
    if (userId !== null) this.count(this.perUser, userId, 1);
    const untrack = this.track(sessionId, connection);
    const forget = () => {
      this.sockets.delete(connection);
      if (userId !== null) this.count(this.perUser, userId, -1);
      untrack();
    };
    // The context is made after an await (the session lookup): a socket that closed meanwhile will
    // not emit 'close' again, so it is forgotten at once instead of holding its slots forever.
    if (socket.readyState === socket.CLOSED) forget();
    else socket.once('close', forget);
    return connection;
  }

  /**
   * An SSE stream (a subscription over HTTP): counted against the user's and the IP's caps like
   * a WebSocket, and ended with its session. The slot is freed when `signal` aborts or on release.
   */
  openStream(info: { userId: number; sessionId: number | null; ip: string }, signal: AbortSignal): SubscriptionSlot {
    const { userId, sessionId, ip } = info;
    this.checkUser(userId);
    const refusal = this.ipRefusal(ip);
    if (refusal) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: refusal });
    const ending = new AbortController();
    const untrack = this.track(sessionId, { end: (reason) => ending.abort(reason) });
    this.count(this.perUser, userId, 1);
    this.count(this.perIp, ip, 1);
    this.streams += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      signal.removeEventListener('abort', release);
      this.count(this.perUser, userId, -1);
      this.count(this.perIp, ip, -1);
      this.streams -= 1;
      untrack();
    };
    // On the source itself: a signal from AbortSignal.any is only weakly held by its sources.
    signal.addEventListener('abort', release, { once: true });
    return { signal: AbortSignal.any([signal, ending.signal]), release };
  }

  /**
   * Ends every channel opened with one of these sessions: at once no call runs on it and no event
   * reaches it; a WebSocket then closes with 4401 after answering the calls in flight, so this is
   * safe to call from a call on that very socket (its answer is still delivered).
   */
  closeSessions(sessionIds: readonly number[]): void {
    this.closeLocalSessions(sessionIds);
    if (sessionIds.length > 0) this.announce?.(sessionIds);
  }

  /**
   * Shared mode: sessions ended on this instance (sign-out, password change, housekeeping) are
   * announced to the others, whose own channels for them end too (they call closeLocalSessions).
   */
  shareSessionClosures(announce: (sessionIds: readonly number[]) => void): void {
    this.announce = announce;
  }

  /** closeSessions for this instance's channels only (an announcement from another instance). */
  closeLocalSessions(sessionIds: readonly number[]): void {
    for (const sessionId of sessionIds) {
      for (const channel of [...(this.bySession.get(sessionId) ?? [])]) {
        channel.end(sessionEndedError(), { code: CLOSE_SESSION_ENDED, reason: 'session ended' });
      }
    }
  }

  /** Counts for tests and diagnostics. */
  stats(): { sockets: number; streams: number; subscriptions: number } {
    let subscriptions = 0;
    for (const connection of this.sockets) subscriptions += connection.subscriptionCount;
    return { sockets: this.sockets.size, streams: this.streams, subscriptions };
  }

  private checkUser(userId: number): void {
    const max = this.settings.maxSocketsPerUser;
    if (max === null || (this.perUser.get(userId) ?? 0) < max) return;
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many live connections for this user (at most ${max} WebSockets and SSE streams); close some first`,
    });
  }

  private ipRefusal(ip: string): string | null {
    const max = this.settings.maxSocketsPerIp;
    if (max === null || (this.perIp.get(ip) ?? 0) < max) return null;
    return `Too many live connections from this address (at most ${max} WebSockets and SSE streams); close some first`;
  }

  private track(sessionId: number | null, channel: Channel): () => void {
    if (sessionId === null) return () => {};
    let channels = this.bySession.get(sessionId);
    if (!channels) {
      channels = new Set();
      this.bySession.set(sessionId, channels);
    }
    const set = channels;
    set.add(channel);
    return () => {
      set.delete(channel);
      if (set.size === 0 && this.bySession.get(sessionId) === set) this.bySession.delete(sessionId);
    };
  }

  private count<K>(counts: Map<K, number>, key: K, delta: number): void {
    const next = (counts.get(key) ?? 0) + delta;
    if (next > 0) counts.set(key, next);
    else counts.delete(key);
  }
}
