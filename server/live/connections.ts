import type { WebSocket } from 'ws';

/** What the server knows about one open tRPC WebSocket once its context is made. */
export interface LiveSocketInfo {
  socket: WebSocket;
  /** null for a socket opened without a (valid) session. */
  userId: number | null;
  sessionId: number | null;
  /** The client IP, resolved the same way as for HTTP requests. */
  ip: string;
}

/**
 * The open tRPC WebSockets, by session. Revoking a session (sign-out, sign-out-all, password
 * change, expiry) closes its sockets, so a socket never outlives the session that opened it.
 */
export class ConnectionRegistry {
  private readonly bySession = new Map<number, Set<WebSocket>>();

  /** Records a socket; it is forgotten when it closes. */
  add(info: LiveSocketInfo): void {
    const { sessionId, socket } = info;
    if (sessionId === null) return;
    let sockets = this.bySession.get(sessionId);
    if (!sockets) {
      sockets = new Set();
      this.bySession.set(sessionId, sockets);
    }
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.bySession.get(sessionId) === sockets) this.bySession.delete(sessionId);
    });
  }

  /** Closes every socket opened with one of these sessions (code 4401: the session ended). */
  closeSessions(sessionIds: readonly number[]): void {
    for (const sessionId of sessionIds) {
      for (const socket of this.bySession.get(sessionId) ?? []) socket.close(4401, 'session ended');
    }
  }
}
