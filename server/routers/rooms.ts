import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { userChannel } from '../bus/event-bus.ts';
import type { Context } from '../context.ts';
import { claimSubscriptionSlot, streamRoomEvents } from '../live/room-events.ts';
import { readSubscriptionTag } from '../live/trpc-wire.ts';
import {
  memberPaging,
  myRoomSchema,
  pageOutput,
  roomListPaging,
  roomNameSchema,
  roomSummarySchema,
  seqSchema,
} from '../schemas.ts';
import { RoomLimitError } from '../store/errors.ts';
import type { RoomRow } from '../store/store.ts';
import { authedProcedure, router } from '../trpc.ts';
import { enforceLimit, requireMembership, requireRoom } from './errors.ts';

const roomInput = z.object({ room: roomNameSchema });

/**
 * Tells the user's me.events streams, on every tab and instance, that their marker or membership
 * of `room` changed, after the change committed; each re-reads that room. A post needs no notice:
 * its room event reaches them already.
 */
function notifyMine(ctx: Context, userId: number, room: RoomRow): void {
  ctx.bus.publish(userChannel(userId), { type: 'mine', room: room.name, roomId: room.id });
}

export const roomsRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/rooms',
        tags: ['rooms'],
        summary: 'Rooms, most recently active first, a page at a time',
        description:
          'Rooms with messages come first, newest activity first, then silent rooms by name. Without `cursor`: the first page. `hasMore` says whether more rooms follow; pass `nextCursor` as `cursor` to get them.',
        errorResponses: { 400: 'Invalid cursor or limit' },
      },
    })
    // Optional, so typed clients that call rooms.list.query() with no input keep working.
    .input(z.object(roomListPaging.input).optional())
    .output(z.object({ rooms: z.array(roomSummarySchema), ...pageOutput }))
    .query(async ({ ctx, input }) => {
      const page = await ctx.store.rooms.list(roomListPaging.request(input));
      return { rooms: page.rows, ...roomListPaging.answer(page) };
    }),

  join: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/join',
        tags: ['rooms'],
        summary: 'Join a room, creating it on first join',
        description:
          'Joining an existing room always works. Creating one is limited per user (30 per hour) and by the server-wide MAX_ROOMS cap.',
        errorResponses: {
          400: 'Invalid room name',
          403: 'The server holds its maximum number of rooms: join an existing one',
          429: 'Creating rooms too fast',
        },
      },
    })
    .input(roomInput)
    .output(z.object({ room: roomSummarySchema, created: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      if (ctx.limits && !(await ctx.store.rooms.find(input.room))) {
        enforceLimit(ctx, await ctx.limits.roomCreate.consume(String(ctx.user.id)), 'Creating rooms too fast');
      }
      let joined: Awaited<ReturnType<typeof ctx.store.rooms.join>>;
      try {
        // The store checks MAX_ROOMS inside the join's transaction: parallel joins cannot overshoot it.
        joined = await ctx.store.rooms.join(ctx.user.id, input.room, ctx.now(), ctx.maxRooms);
      } catch (error) {
        if (!(error instanceof RoomLimitError)) throw error;
        throw new TRPCError({
          code: 'FORBIDDEN',
          message: `This server already holds its maximum of ${ctx.maxRooms} rooms (MAX_ROOMS); join an existing room instead`,
        });
      }
      const { room, created } = joined;
      // Also when already a member: one notice per join is cheap, and an unchanged list is not sent.
      notifyMine(ctx, ctx.user.id, room);
      const summary = await ctx.store.rooms.summary(room.id);
      if (!summary) throw new Error(`room ${room.name} has no summary right after joining`);
      return { room: summary, created };
    }),

  mine: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/me/rooms',
        tags: ['rooms'],
        summary: 'My rooms, with unread and mention counts, most recently active first',
        description:
          '`unreadCount`: messages after `lastReadSeq`, not by you, not deleted. `mentionCount`: those of them that mention you. Both stop at 1000. Rooms without messages come last, by name. Live: the `me.events` subscription sends this list whenever a count or marker changes.',
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ rooms: z.array(myRoomSchema) }))
    .query(async ({ ctx }) => ({ rooms: await ctx.store.rooms.mine(ctx.user.id) })),

  markRead: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/read',
        tags: ['rooms'],
        summary: 'Move your read marker forward to a seq',
        description:
          'The marker only moves forward: an older seq leaves it where it is. A seq past the newest message is clamped to it. Answers the marker after the call.',
        errorResponses: { 400: 'Invalid input', 403: 'Not a member: join first', 404: 'Unknown room' },
      },
    })
    .input(z.object({ room: roomNameSchema, seq: seqSchema }))
    .output(z.object({ lastReadSeq: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      const lastReadSeq = await ctx.store.rooms.markRead(room.id, ctx.user.id, input.seq);
      if (lastReadSeq === undefined) {
        throw new TRPCError({ code: 'FORBIDDEN', message: `Join room "${room.name}" before marking it read` });
      }
      notifyMine(ctx, ctx.user.id, room);
      return { lastReadSeq };
    }),

  leave: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/leave',
        tags: ['rooms'],
        summary: 'Leave a room',
        description:
          'The room leaves your rooms, and you leave its member list and presence; posting there needs a join again. `left` is false when you were not a member.',
        errorResponses: { 400: 'Invalid room name', 404: 'Unknown room' },
      },
    })
    .input(roomInput)
    .output(z.object({ left: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      const left = await ctx.store.rooms.leave(room.id, ctx.user.id);
      if (left) {
        // Ends this user's rooms.events streams of the room on every connection and instance
        // (FORBIDDEN, see room-events.ts), which drops them from presence.
        ctx.bus.publish(room.name, { type: 'left', userId: ctx.user.id });
        notifyMine(ctx, ctx.user.id, room);
      }
      return { left };
    }),

  members: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/rooms/{room}/users',
        tags: ['rooms'],
        summary: "The room's members, a page at a time, online ones first within each page",
        description:
          'Pages follow join order, which never changes, so walking the pages sees every member once; within a page, online members come first. `hasMore` says whether more members follow; pass `nextCursor` as `cursor` to get them.',
        errorResponses: { 400: 'Invalid room name, cursor or limit', 404: 'Unknown room' },
      },
    })
    .input(z.object({ room: roomNameSchema, ...memberPaging.input }))
    .output(
      z.object({
        users: z.array(
          z.object({
            username: z.string(),
            online: z.boolean(),
            joinedAt: z.iso.datetime(),
            messageCount: z.number().int(),
          }),
        ),
        ...pageOutput,
      }),
    )
    .query(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      const online = await ctx.presence.onlineUsernames(room.name);
      const page = await ctx.store.rooms.members(room.id, memberPaging.request(input));
      const users = page.rows.map((member) => ({
        username: member.username,
        online: online.has(member.username),
        joinedAt: member.joinedAt.toISOString(),
        messageCount: member.messageCount,
      }));
      // Paged by join order (presence changes by the second and would make pages skip or repeat
      // people); online members first within the page, each group still in join order.
      users.sort((a, b) => Number(b.online) - Number(a.online));
      return { users, ...memberPaging.answer(page) };
    }),

  events: authedProcedure
    .input(
      z.object({
        room: roomNameSchema,
        /**
         * Set by tRPC's wsLink on resubscribe (or by the caller): the id of the last event received,
         * opaque (`c<change>`, decision 019). A plain message seq (the pre-019 ids) still resumes.
         */
        lastEventId: z.string().max(64).nullish(),
      }),
    )
    // The WebSocket request id of this very subscription, from the tag our decoder put on its input.
    .use(async ({ getRawInput, next }) => next({ ctx: { subscriptionTag: readSubscriptionTag(await getRawInput()) } }))
    // Returns the stream itself rather than delegating from another generator: one async hop less
    // per event per subscriber, which is the hot path of a busy room.
    .subscription(async ({ ctx, input, signal }) => {
      // Claimed before the database is asked: one socket's subscriptions take their slots in
      // arrival order, and refused ones cost no query.
      const slot = claimSubscriptionSlot(ctx, `room "${input.room}"`, signal);
      try {
        const room = await requireRoom(ctx, input.room);
        await requireMembership(ctx, room, 'before following it');
        // Stopped (or its connection ended) while the database answered.
        if (slot.signal.aborted)
          throw new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'Stopped before it started' });
        return streamRoomEvents(ctx, room, input.lastEventId, slot);
      } catch (error) {
        slot.release();
        throw error;
      }
    }),

  typing: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/typing',
        tags: ['rooms'],
        summary: 'Show "… is typing" to the room for about 5 seconds',
        errorResponses: { 403: 'Not a member: join first', 404: 'Unknown room' },
      },
    })
    .input(roomInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      await requireMembership(ctx, room, 'first');
      ctx.typing.touch(room.name, ctx.user.username);
      return { ok: true as const };
    }),
});
