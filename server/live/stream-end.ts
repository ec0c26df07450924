import { TRPCError } from '@trpc/server';

/**
 * Ends a subscription with the reason its channel was ended for (the session was revoked: 401; the
 * connection flooded: 429), on both transports. Returning instead makes tRPC send `stopped`, which a
 * client takes as a normal end: the web app then never resubscribed, never saw the 401, and stayed
 * on a room page that no longer got anything (the join page test caught it under load, when the
 * `stopped` frames beat the socket's 4401 close). A client that stopped the subscription itself, or
 * a socket that is already closed, gets nothing.
 */
export function throwEndReason(signal: AbortSignal): void {
  const reason: unknown = signal.reason;
  if (reason instanceof TRPCError && reason.code !== 'CLIENT_CLOSED_REQUEST') throw reason;
}
