import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  clientIdSchema,
  limitSchema,
  messageSchema,
  messageTextSchema,
  roomNameSchema,
  seqSchema,
} from '../schemas.ts';
import { authedProcedure, router } from '../trpc.ts';
import { enforceLimit, requireMembership, requireRoom } from './errors.ts';

export const DEFAULT_PAGE_SIZE = 50;

export const messagesRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/rooms/{room}/messages',
        tags: ['messages'],
        summary: "A page of the room's messages, in ascending seq",
        description:
          'Without a cursor: the newest `limit` messages. `before=S` pages back from seq S; `after=S` returns messages newer than seq S (poll with the last seq you have). `hasMore` says whether more exist in that direction.',
        errorResponses: { 400: 'Invalid input', 404: 'Unknown room' },
      },
    })
    .input(
      z
        .object({
          room: roomNameSchema,
          before: seqSchema.optional(),
          after: seqSchema.optional(),
          limit: limitSchema.optional(),
        })
        .refine((input) => input.before === undefined || input.after === undefined, {
          message: 'give either before or after, not both',
          path: ['before'],
        }),
    )
    .output(z.object({ messages: z.array(messageSchema), hasMore: z.boolean() }))
    .query(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      return ctx.store.messages.list(room, {
        before: input.before,
        after: input.after,
        limit: input.limit ?? DEFAULT_PAGE_SIZE,
      });
    }),

  post: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/rooms/{room}/messages',
        tags: ['messages'],
        summary: 'Post a message as the signed-in user',
        description:
          'Send a `clientId` (e.g. a UUID) to make retries safe: the same clientId from the same user returns the original message instead of posting twice.',
        errorResponses: {
          400: 'Invalid input',
          403: 'Not a member: join first',
          404: 'Unknown room',
          409: 'clientId already used for a different message',
          429: 'Posting too fast',
        },
      },
    })
    .input(z.object({ room: roomNameSchema, text: messageTextSchema, clientId: clientIdSchema.optional() }))
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      await requireMembership(ctx, room, 'before posting in it');
      if (ctx.limits) enforceLimit(ctx, await ctx.limits.post.consume(String(ctx.user.id)), 'Posting too fast');
      // Resolves once the message's transaction committed; the writer has published it by then,
      // in seq order and once per message.
      const result = await ctx.messageWriter.insert({
        room,
        author: ctx.user,
        text: input.text,
        clientId: input.clientId ?? null,
        now: ctx.now(),
      });
      if (result.kind === 'clientIdConflict') {
        throw new TRPCError({
          code: 'CONFLICT',
          message: `clientId "${input.clientId}" was already used for a different message`,
        });
      }
      if (result.kind === 'inserted') ctx.typing.clear(room.name, ctx.user.username);
      return { message: result.message };
    }),
});
