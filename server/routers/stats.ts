import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  pageOutput,
  roomCountPaging,
  roomNameSchema,
  userCountPaging,
  usernameSchema,
  userRoomPaging,
} from '../schemas.ts';
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

const PAGED =
  'Most messages first, ties by name. Without `cursor`: the first page. `hasMore` says whether more rows follow; pass `nextCursor` as `cursor` to get them.';

export const statsRouter = router({
  rooms: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/stats/rooms',
        tags: ['stats'],
        summary: 'Messages per room, a page at a time',
        description: PAGED,
        errorResponses: { 400: 'Invalid cursor or limit' },
      },
    })
    // Optional, so typed clients that call stats.rooms.query() with no input keep working.
    .input(z.object(roomCountPaging.input).optional())
    .output(z.object({ rooms: z.array(roomCountSchema), ...pageOutput }))
    .query(({ ctx, input }) => {
      const page = roomMessageCounts(ctx.db, roomCountPaging.request(input));
      return { rooms: page.rows, ...roomCountPaging.answer(page) };
    }),

  users: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/stats/users',
        tags: ['stats'],
        summary: 'Messages per user across all rooms, or in one room with ?room=, a page at a time',
        description: PAGED,
        errorResponses: { 400: 'Invalid room name, cursor or limit', 404: 'Unknown room' },
      },
    })
    .input(z.object({ room: roomNameSchema.optional(), ...userCountPaging.input }).optional())
    .output(z.object({ users: z.array(userCountSchema), ...pageOutput }))
    .query(({ ctx, input }) => {
      const request = userCountPaging.request(input);
      const page =
        input?.room === undefined
          ? userMessageCounts(ctx.db, request)
          : memberMessageCounts(ctx.db, requireRoom(ctx, input.room).id, request);
      return { users: page.rows, ...userCountPaging.answer(page) };
    }),

  user: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/stats/users/{username}',
        tags: ['stats'],
        summary: "One user's messages overall and per room (the rooms a page at a time)",
        description: `\`messageCount\` is the user's total. \`rooms\`: ${PAGED}`,
        errorResponses: { 400: 'Invalid username, cursor or limit', 404: 'Unknown user' },
      },
    })
    .input(z.object({ username: usernameSchema, ...userRoomPaging.input }))
    .output(
      z.object({
        username: z.string(),
        messageCount: z.number().int(),
        rooms: z.array(roomCountSchema),
        ...pageOutput,
      }),
    )
    .query(({ ctx, input }) => {
      const user = findUserByUsername(ctx.db, input.username);
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `No user named "${input.username}"` });
      const page = userRoomCounts(ctx.db, user.id, userRoomPaging.request(input));
      return {
        username: user.username,
        messageCount: userMessageCount(ctx.db, user.id),
        rooms: page.rows,
        ...userRoomPaging.answer(page),
      };
    }),
});
