import { z } from 'zod';
import { claimSubscriptionSlot, streamRoomEvents } from '../live/room-events.ts';
import { readSubscriptionTag } from '../live/trpc-wire.ts';
import { roomNameSchema, roomSummarySchema } from '../schemas.ts';
import { getRoomSummary, joinRoom, listMembers, listRoomSummaries } from '../store/rooms.ts';
import { authedProcedure, router } from '../trpc.ts';
import { requireMembership, requireRoom } from './errors.ts';

const roomInput = z.object({ room: roomNameSchema });

export const roomsRouter = router({
  list: authedProcedure
    .meta({
      openapi: { method: 'GET', path: '/rooms', tags: ['rooms'], summary: 'All rooms, most recently active first' },
    })
    .input(z.void())
    .output(z.object({ rooms: z.array(roomSummarySchema) }))
    .query(({ ctx }) => ({ rooms: listRoomSummaries(ctx.db) })),

  join: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/join',
        tags: ['rooms'],
        summary: 'Join a room, creating it on first join',
        errorResponses: { 400: 'Invalid room name' },
      },
    })
    .input(roomInput)
    .output(z.object({ room: roomSummarySchema, created: z.boolean() }))
    .mutation(({ ctx, input }) => {
      const { room, created } = joinRoom(ctx.db, ctx.user.id, input.room, ctx.now());
      const summary = getRoomSummary(ctx.db, room.id);
      if (!summary) throw new Error(`room ${room.name} has no summary right after joining`);
      return { room: summary, created };
    }),

  members: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/rooms/{room}/users',
        tags: ['rooms'],
        summary: "The room's members, online ones first",
        errorResponses: { 404: 'Unknown room' },
      },
    })
    .input(roomInput)
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
      }),
    )
    .query(({ ctx, input }) => {
      const room = requireRoom(ctx, input.room);
      const online = ctx.presence.onlineUsernames(room.name);
      const users = listMembers(ctx.db, room.id).map((member) => ({
        username: member.username,
        online: online.has(member.username),
        joinedAt: member.joinedAt.toISOString(),
        messageCount: member.messageCount,
      }));
      // Stable sort: online members first, each group still in join order.
      users.sort((a, b) => Number(b.online) - Number(a.online));
      return { users };
    }),

  events: authedProcedure
    .input(
      z.object({
        room: roomNameSchema,
        /** Set by tRPC's wsLink on resubscribe (or by the caller): the seq of the newest message held. */
        lastEventId: z.string().max(64).nullish(),
      }),
    )
    // The WebSocket request id of this very subscription, from the tag our decoder put on its input.
    .use(async ({ getRawInput, next }) => next({ ctx: { subscriptionTag: readSubscriptionTag(await getRawInput()) } }))
    // Returns the stream itself rather than delegating from another generator: one async hop less
    // per event per subscriber, which is the hot path of a busy room.
    .subscription(({ ctx, input, signal }) => {
      const room = requireRoom(ctx, input.room);
      requireMembership(ctx, room, 'before following it');
      const slot = claimSubscriptionSlot(ctx, `room "${room.name}"`, signal);
      return streamRoomEvents(ctx, room, input.lastEventId, slot);
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
    .mutation(({ ctx, input }) => {
      const room = requireRoom(ctx, input.room);
      requireMembership(ctx, room, 'first');
      ctx.typing.touch(room.name, ctx.user.username);
      return { ok: true as const };
    }),
});
