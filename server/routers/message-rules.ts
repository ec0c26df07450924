import { TRPCError } from '@trpc/server';
import { MAX_REACTIONS_PER_MESSAGE, replyExcerpt } from '../../shared/rules.ts';
import type { Context } from '../context.ts';
import type { MessageDto, ReplyPreview } from '../schemas.ts';
import type { ChangeResult, MessageStore, RoomRow } from '../store/store.ts';
import { enforceLimit, requireMembership, requireRoom } from './errors.ts';

type AuthedContext = Context & { user: NonNullable<Context['user']> };
type Action = 'edit' | 'delete' | 'react' | 'unreact';

const DOING: Record<Action, string> = {
  edit: 'before editing messages in it',
  delete: 'before deleting messages in it',
  react: 'before reacting to messages in it',
  unreact: 'before reacting to messages in it',
};

function notFound(room: RoomRow, seq: number): TRPCError {
  return new TRPCError({ code: 'NOT_FOUND', message: `Room "${room.name}" has no message ${seq}` });
}

/** The quote a reply carries: the original must exist in the same room and not be deleted. */
export async function replyPreview(ctx: AuthedContext, room: RoomRow, seq: number): Promise<ReplyPreview> {
  const original = await ctx.store.messages.get(room, seq);
  if (!original) throw notFound(room, seq);
  if (original.deletedAt !== null) {
    throw new TRPCError({ code: 'CONFLICT', message: `Message ${seq} is deleted; it cannot be replied to` });
  }
  return { seq, author: original.author, text: replyExcerpt(original.text), deleted: false };
}

/**
 * Who may do what (issue 12): authors edit and delete their own messages, the room's creator may
 * delete any message in it (moderation), every member may react. Checked against the stored author,
 * which never changes, so reading it before the change's own transaction is safe.
 */
async function authorize(ctx: AuthedContext, room: RoomRow, message: MessageDto, action: Action): Promise<void> {
  if (action === 'react' || action === 'unreact' || message.author === ctx.user.username) return;
  if (action === 'delete' && (await ctx.store.rooms.creator(room.id)) === ctx.user.id) return;
  throw new TRPCError({
    code: 'FORBIDDEN',
    message:
      action === 'edit'
        ? 'Only its author can edit a message'
        : "Only its author or the room's creator can delete a message",
  });
}

/**
 * The shared path of edit, delete, react and unreact: room, membership, rate limit (the post
 * limiter: a change costs what a post costs), permission, the change's transaction, then publishing
 * its room changes after the commit, in change order.
 */
export async function applyChange(
  ctx: AuthedContext,
  input: { room: string; seq: number },
  action: Action,
  change: (store: MessageStore, room: RoomRow) => Promise<ChangeResult>,
): Promise<{ message: MessageDto }> {
  const room = await requireRoom(ctx, input.room);
  await requireMembership(ctx, room, DOING[action]);
  if (ctx.limits) enforceLimit(ctx, await ctx.limits.post.consume(String(ctx.user.id)), 'Changing messages too fast');
  const stored = await ctx.store.messages.get(room, input.seq);
  if (!stored) throw notFound(room, input.seq);
  await authorize(ctx, room, stored, action);
  const result = await change(ctx.store.messages, room);
  switch (result.kind) {
    case 'notFound':
      throw notFound(room, input.seq);
    case 'deleted':
      throw new TRPCError({
        code: 'CONFLICT',
        message: `Message ${input.seq} is deleted; it cannot be ${action === 'edit' ? 'edited' : 'reacted to'}`,
      });
    case 'tooManyReactions':
      throw new TRPCError({
        code: 'CONFLICT',
        message: `Message ${input.seq} already has ${MAX_REACTIONS_PER_MESSAGE} different emoji; react with one of those`,
      });
    case 'unchanged':
      return { message: result.message };
    case 'changed':
      ctx.messageWriter.publishChanges(room.name, result.changes);
      return { message: result.message };
  }
}
