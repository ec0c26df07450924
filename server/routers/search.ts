import { z } from 'zod';
import { searchWords } from '../../shared/search-text.ts';
import { messageSchema, roomNameSchema, searchLimitSchema, seqSchema } from '../schemas.ts';
import { authedProcedure } from '../trpc.ts';
import { enforceLimit, requireRoom } from './errors.ts';

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_QUERY_LENGTH = 200;

/**
 * `q` as typed: the store cuts it into words itself (shared/search-text.ts) and never hands it to
 * the full-text engine as syntax. Refused here when it has no word at all ("***", "-"), which
 * could only ever find nothing.
 */
const searchQuerySchema = z
  .string({ error: 'q is required' })
  .min(1, 'must not be empty')
  .max(MAX_SEARCH_QUERY_LENGTH, `must be at most ${MAX_SEARCH_QUERY_LENGTH} characters`)
  .refine((q) => searchWords(q).length > 0, 'must contain a word to search for (letters or digits)');

/** messages.search: merged into messagesRouter. */
export const searchProcedure = authedProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/search',
      tags: ['messages'],
      summary: 'Full-text search over messages, newest first',
      description:
        "Finds messages containing every word of `q` (whole words, case-insensitive, accents on Latin letters ignored). `q` is plain words: quotes, `*`, `-`, `OR`, `NEAR` and the like are not search syntax. Without `room`, searches the rooms you are a member of; `room` searches that room only (any room). Deleted messages are never found, edited ones by their new text only. `snippet` is the message text HTML-escaped, cut around the first match when long, with each matched word in `<mark>`. Page with `before` = the last result's message id while `hasMore`. Rate-limited per user.",
      errorResponses: {
        400: 'Invalid input, or `q` has no word to search for',
        404: 'Unknown room',
        429: 'Searching too fast',
      },
    },
  })
  .input(
    z.object({
      q: searchQuerySchema,
      room: roomNameSchema.optional(),
      limit: searchLimitSchema.optional(),
      before: seqSchema.optional(),
    }),
  )
  .output(
    z.object({
      results: z.array(z.object({ message: messageSchema, snippet: z.string() })),
      hasMore: z.boolean(),
    }),
  )
  .query(async ({ ctx, input }) => {
    if (ctx.limits) enforceLimit(ctx, await ctx.limits.search.consume(String(ctx.user.id)), 'Searching too fast');
    const room = input.room === undefined ? undefined : await requireRoom(ctx, input.room);
    return ctx.store.messages.search({
      query: input.q,
      userId: ctx.user.id,
      roomId: room?.id,
      beforeId: input.before,
      limit: input.limit ?? DEFAULT_SEARCH_LIMIT,
    });
  });
