import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { mentionCandidates } from '../../shared/mentions.ts';
import {
  clientIdSchema,
  emojiSchema,
  limitSchema,
  messageSchema,
  messageTextSchema,
  roomNameSchema,
  seqSchema,
} from '../schemas.ts';
import { authedProcedure, router } from '../trpc.ts';
import { enforceLimit, requireMembership, requireRoom } from './errors.ts';
import { applyChange, replyPreview } from './message-rules.ts';
import { searchProcedure } from './search.ts';

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
          "Without a cursor: the newest `limit` messages. `before=S` pages back from seq S; `after=S` returns messages newer than seq S (poll with the last seq you have). `hasMore` says whether more exist in that direction. `around=S` returns a page centred on seq S (jump to a search result or a reply's original), with `hasMoreBefore` and `hasMoreAfter`; it cannot be combined with `before` or `after`.",
        errorResponses: { 400: 'Invalid input', 404: 'Unknown room' },
      },
    })
    .input(
      z
        .object({
          room: roomNameSchema,
          before: seqSchema.optional(),
          after: seqSchema.optional(),
          around: seqSchema.optional(),
          limit: limitSchema.optional(),
        })
        .refine((input) => input.before === undefined || input.after === undefined, {
          message: 'give either before or after, not both',
          path: ['before'],
        })
        .refine((input) => input.around === undefined || (input.before === undefined && input.after === undefined), {
          message: 'around cannot be combined with before or after',
          path: ['around'],
        }),
    )
    .output(
      z.object({
        messages: z.array(messageSchema),
        hasMore: z.boolean(),
        /** With `around` only: whether older, and newer, messages exist beyond the page. */
        hasMoreBefore: z.boolean().optional(),
        hasMoreAfter: z.boolean().optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      return ctx.store.messages.list(room, {
        before: input.before,
        after: input.after,
        around: input.around,
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
          404: 'Unknown room, or no message `replyTo` in it',
          409: 'clientId already used for a different message, or `replyTo` is deleted',
          429: 'Posting too fast',
        },
      },
    })
    .input(
      z.object({
        room: roomNameSchema,
        text: messageTextSchema,
        clientId: clientIdSchema.optional(),
        replyTo: seqSchema.optional(),
      }),
    )
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) => {
      const room = await requireRoom(ctx, input.room);
      await requireMembership(ctx, room, 'before posting in it');
      if (ctx.limits) enforceLimit(ctx, await ctx.limits.post.consume(String(ctx.user.id)), 'Posting too fast');
      const replyTo = input.replyTo === undefined ? null : await replyPreview(ctx, room, input.replyTo);
      // Resolves once the message's transaction committed; the writer has published it by then,
      // in seq order and once per message.
      const result = await ctx.messageWriter.insert({
        room,
        author: ctx.user,
        text: input.text,
        clientId: input.clientId ?? null,
        now: ctx.now(),
        replyTo,
        mentions: mentionCandidates(input.text),
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

  edit: authedProcedure
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/rooms/{room}/messages/{seq}',
        tags: ['messages'],
        summary: 'Edit your own message',
        description:
          'Sets `editedAt`. The same text again changes nothing (and keeps `editedAt`). Counts against the post rate limit.',
        errorResponses: {
          400: 'Invalid input',
          403: 'Not a member, or not your message',
          404: 'Unknown room or message',
          409: 'The message is deleted',
          429: 'Changing messages too fast',
        },
      },
    })
    .input(z.object({ room: roomNameSchema, seq: seqSchema, text: messageTextSchema }))
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) =>
      applyChange(ctx, input, 'edit', (store, room) =>
        store.edit(room, input.seq, input.text, ctx.now(), mentionCandidates(input.text)),
      ),
    ),

  delete: authedProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/rooms/{room}/messages/{seq}',
        tags: ['messages'],
        summary: 'Delete a message (yours, or any in a room you created)',
        description:
          'Answers the tombstone: `seq`, `author` and `createdAt` stay, `text` becomes "" (the stored text is erased), reactions go and `deletedAt` is set. The message stops counting in every message count. Deleting it again answers the same tombstone.',
        errorResponses: {
          400: 'Invalid input',
          403: 'Not a member, or neither your message nor your room',
          404: 'Unknown room or message',
          429: 'Changing messages too fast',
        },
      },
    })
    .input(z.object({ room: roomNameSchema, seq: seqSchema }))
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) =>
      applyChange(ctx, input, 'delete', (store, room) => store.delete(room, input.seq, ctx.now())),
    ),

  react: authedProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/rooms/{room}/messages/{seq}/reactions/{emoji}',
        tags: ['messages'],
        summary: 'React to a message with one emoji',
        description:
          '`emoji` is one emoji, URL-encoded (👍 is `%F0%9F%91%8D`). Reacting twice with the same emoji changes nothing. At most 20 different emoji per message. Counts against the post rate limit.',
        errorResponses: {
          400: 'Not one emoji',
          403: 'Not a member',
          404: 'Unknown room or message',
          409: 'The message is deleted, or already has 20 different emoji',
          429: 'Changing messages too fast',
        },
      },
    })
    .input(z.object({ room: roomNameSchema, seq: seqSchema, emoji: emojiSchema }))
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) =>
      applyChange(ctx, input, 'react', (store, room) => store.react(room, input.seq, ctx.user.id, input.emoji)),
    ),

  unreact: authedProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/rooms/{room}/messages/{seq}/reactions/{emoji}',
        tags: ['messages'],
        summary: 'Take back your reaction',
        description: 'Taking back a reaction you do not have changes nothing. Counts against the post rate limit.',
        errorResponses: {
          400: 'Not one emoji',
          403: 'Not a member',
          404: 'Unknown room or message',
          409: 'The message is deleted',
          429: 'Changing messages too fast',
        },
      },
    })
    .input(z.object({ room: roomNameSchema, seq: seqSchema, emoji: emojiSchema }))
    .output(z.object({ message: messageSchema }))
    .mutation(async ({ ctx, input }) =>
      applyChange(ctx, input, 'unreact', (store, room) => store.unreact(room, input.seq, ctx.user.id, input.emoji)),
    ),

  search: searchProcedure,
});
