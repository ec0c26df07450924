import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { roomNameSchema, usernameSchema } from '../schemas.ts';
import {
  memberMessageCounts,
  roomMessageCounts,
  userMessageCount,
  userMessageCounts,
  userRoomCounts,
} from '../store/stats.ts';
import { findUserByUsername } from '../store/users.ts';
import { authedProcedure, router } from '../trpc.ts';
import { requireRoom } from './errors.ts';

const userCountSchema = z.object({ username: z.string(), messageCount: z.number().int() });
const roomCountSchema = z.object({ room: z.string(), messageCount: z.number().int() });

export const statsRouter = router({
  rooms: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/stats/rooms', tags: ['stats'], summary: 'Messages per room' } })
    .input(z.void())
    .output(z.object({ rooms: z.array(roomCountSchema) }))
    .query(({ ctx }) => ({ rooms: roomMessageCounts(ctx.db) })),

  users: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/stats/users',
        tags: ['stats'],
        summary: 'Messages per user across all rooms, or in one room with ?room=',
        errorResponses: { 404: 'Unknown room' },
      },
    })
    .input(z.object({ room: roomNameSchema.optional() }).optional())
    .output(z.object({ users: z.array(userCountSchema) }))
    .query(({ ctx, input }) => {
      if (input?.room === undefined) return { users: userMessageCounts(ctx.db) };
      return { users: memberMessageCounts(ctx.db, requireRoom(ctx, input.room).id) };
    }),

  user: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/stats/users/{username}',
        tags: ['stats'],
        summary: "One user's messages overall and per room",
        errorResponses: { 404: 'Unknown user' },
      },
    })
    .input(z.object({ username: usernameSchema }))
    .output(z.object({ username: z.string(), messageCount: z.number().int(), rooms: z.array(roomCountSchema) }))
    .query(({ ctx, input }) => {
      const user = findUserByUsername(ctx.db, input.username);
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `No user named "${input.username}"` });
      return {
        username: user.username,
        messageCount: userMessageCount(ctx.db, user.id),
        rooms: userRoomCounts(ctx.db, user.id),
      };
    }),
});
