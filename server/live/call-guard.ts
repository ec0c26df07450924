import { TRPCError } from '@trpc/server';
import type { Context } from '../context.ts';
import { sessionEndedError } from './connections.ts';
import type { LiveConnection } from './live-connection.ts';
import { readRefusedBatchCall } from './trpc-wire.ts';

/**
 * Calls that must travel alone, never inside a batch (a JSON array frame): one frame of sign-ins
 * would otherwise start many password checks at once, past every per-call check.
 */
export const refuseInBatch = (path: string): boolean => path.startsWith('auth.');

/**
 * Checks one call arriving over a WebSocket before it runs (HTTP calls have their own limits):
 * the connection is not ending, its call budget, no auth call inside a batch, and the session that
 * opened the socket still exists (a primary-key lookup), so a socket never outlives its session.
 */
export async function admitLiveCall(
  ctx: Context,
  connection: LiveConnection,
  getRawInput: () => Promise<unknown>,
): Promise<void> {
  connection.admitCall();
  const refused = readRefusedBatchCall(await getRawInput());
  if (refused !== undefined) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `${refused} cannot be sent in a batch: send it in a message of its own`,
    });
  }
  const { sessionId } = connection;
  if (sessionId !== null && !(await connection.checkSession(() => ctx.store.sessions.isActive(sessionId, ctx.now())))) {
    ctx.connections.closeSessions([sessionId]);
    throw sessionEndedError();
  }
}
