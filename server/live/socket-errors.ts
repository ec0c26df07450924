import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

/** Errors of the connection under a socket, which a client causes by going away. */
const NETWORK_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * An error any client can cause on its WebSocket: a frame ws refused (too large, malformed,
 * invalid UTF-8: codes `WS_ERR_*`; ws has already sent the matching close code) or a connection
 * that dropped under it. Nothing is wrong with the server, so it is no error-level log line.
 */
export function isClientSocketError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && (code.startsWith('WS_ERR_') || NETWORK_ERRORS.has(code));
}

/**
 * @fastify/websocket's errorHandler. Its default logs every socket error at error level with a
 * stack, and tRPC reports the same error again (see onError in app.ts): one oversized frame from
 * an anonymous client wrote two error lines with stacks. Client-caused errors get one warn line.
 */
export function handleSocketError(error: Error, socket: WebSocket, request: FastifyRequest): void {
  if (isClientSocketError(error)) {
    request.log.warn({ code: error.code, ip: request.ip }, `WebSocket closed: ${error.message}`);
  } else {
    request.log.error({ err: error }, 'WebSocket failed');
  }
  socket.terminate();
}
