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
    .query(async ({ ctx, input }) => {
      const page = await ctx.store.stats.roomCounts(roomCountPaging.request(input));
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
    .query(async ({ ctx, input }) => {
      const request = userCountPaging.request(input);
      const page =
        input?.room === undefined
          ? await ctx.store.stats.userCounts(request)
          : await ctx.store.stats.memberCounts((await requireRoom(ctx, input.room)).id, request);
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
    .query(async ({ ctx, input }) => {
      const user = await ctx.store.users.findByUsername(input.username);
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `No user named "${input.username}"` });
      const [page, messageCount] = await Promise.all([
        ctx.store.stats.userRoomCounts(user.id, userRoomPaging.request(input)),
        ctx.store.stats.userCount(user.id),
      ]);
      return {
        username: user.username,
        messageCount,
        rooms: page.rows,
        ...userRoomPaging.answer(page),
      };
    }),
});
