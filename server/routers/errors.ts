import { TRPCError } from '@trpc/server';
import type { Context } from '../context.ts';
import type { LimitDecision } from '../lib/rate-limiter.ts';
import type { RoomRow } from '../store/store.ts';

/** Throws 429 with Retry-After when a limiter said no. */
export function enforceLimit(ctx: Context, decision: LimitDecision, what: string): void {
  if (decision.allowed) return;
  const seconds = Math.max(1, decision.retryAfterSeconds);
  ctx.http.setHeader('Retry-After', String(seconds));
  throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `${what}; try again in ${seconds} s` });
}

export async function requireRoom(ctx: Context, name: string): Promise<RoomRow> {
  const room = await ctx.store.rooms.find(name);
  if (!room) {
    throw new TRPCError({ code: 'NOT_FOUND', message: `Room "${name}" does not exist; join it to create it` });
  }
  return room;
}

/** Posting, typing and following a room need membership: 403 with what to do about it. */
export async function requireMembership(
  ctx: Context & { user: { id: number } },
  room: RoomRow,
  doing: string,
): Promise<void> {
  if (!(await ctx.store.rooms.isMember(room.id, ctx.user.id))) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `Join room "${room.name}" ${doing}` });
  }
}
