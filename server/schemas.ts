import { z } from 'zod';
import {
  DEFAULT_LIST_LIMIT,
  EMOJI_RULE,
  hasForbiddenControl,
  hasLoneSurrogate,
  isBlankText,
  isSingleEmoji,
  MAX_LIST_LIMIT,
  MAX_MESSAGE_LENGTH,
  MAX_PASSWORD_LENGTH,
  MESSAGE_TEXT_PROBLEMS,
  MIN_PASSWORD_LENGTH,
  normalizeLineBreaks,
  ROOM_NAME_PATTERN,
  ROOM_NAME_RULE,
  USERNAME_PATTERN,
  USERNAME_RULE,
} from '../shared/rules.ts';
import { type CursorKey, decodeCursor, encodeCursor } from './lib/list-cursor.ts';

/**
 * Field rules and response shapes shared by the routers. Everything exposed over REST avoids
 * z.boolean() and z.coerce in inputs: trpc-to-openapi coerces query strings by mutating the schemas
 * it is given, so inputs here are written to behave the same before and after that mutation.
 */

/**
 * trpc-to-openapi hands REST path parameters over still percent-encoded (`%20general`). Neither
 * usernames nor room names may contain "%", so decoding here is safe for every transport.
 */
function decodePercent(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export const usernameSchema = z
  .string({ error: 'username is required' })
  .overwrite(decodePercent)
  .trim()
  .regex(USERNAME_PATTERN, `must be ${USERNAME_RULE}`);

export const passwordSchema = z
  .string({ error: 'password is required' })
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

export const roomNameSchema = z
  .string({ error: 'room is required' })
  .overwrite(decodePercent)
  .trim()
  .toLowerCase()
  .regex(ROOM_NAME_PATTERN, `must be ${ROOM_NAME_RULE}`);

/**
 * Stored and answered exactly as validated: line breaks normalised to "\n", then trimmed. The rules
 * (shared/rules.ts) refuse what is not text (unpaired surrogates, control characters other than
 * "\n" and "\t") and count invisible-only text as blank. See decision 014.
 */
export const messageTextSchema = z
  .string({ error: 'text is required' })
  .overwrite(normalizeLineBreaks)
  .trim()
  .refine((text) => !hasLoneSurrogate(text), MESSAGE_TEXT_PROBLEMS.malformed)
  .refine((text) => !hasForbiddenControl(text), MESSAGE_TEXT_PROBLEMS.control)
  .refine((text) => !isBlankText(text), MESSAGE_TEXT_PROBLEMS.blank)
  .max(MAX_MESSAGE_LENGTH, MESSAGE_TEXT_PROBLEMS.tooLong);

/** One emoji (shared/rules.ts isSingleEmoji); REST hands it over percent-encoded. */
export const emojiSchema = z
  .string({ error: 'emoji is required' })
  .overwrite(decodePercent)
  .refine(isSingleEmoji, EMOJI_RULE);

export const clientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters: letters, digits, "_" or "-" (a UUID fits)');

/**
 * A whole number from a query string or JSON. Strings are converted here, before validation, so
 * the schema accepts the same values whether or not trpc-to-openapi has flagged it for coercion.
 */
const wholeNumber = (min: number, max: number) =>
  // The cast only states the input type (a number, or its decimal string from a query): a bare
  // preprocess would type the input as `unknown` and let typed clients send anything.
  z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value),
    z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  ) as unknown as z.ZodType<number, number | string>;

export const seqSchema = wholeNumber(0, Number.MAX_SAFE_INTEGER);
export const limitSchema = wholeNumber(1, 100);
/** Search results per page (issue 13): each one carries a full message and its snippet. */
export const MAX_SEARCH_LIMIT = 50;
export const searchLimitSchema = wholeNumber(1, MAX_SEARCH_LIMIT);

/**
 * Paged lists (rooms, members, statistics): `limit` rows per page (default DEFAULT_LIST_LIMIT) and
 * an opaque `cursor`, the `nextCursor` of the previous page. Without a cursor: the first page, which
 * is what these lists answered before they were paged. See decision 014.
 */
const listLimitSchema = wholeNumber(1, MAX_LIST_LIMIT);

/** Keys are at most a timestamp or count and a 64-character name: real cursors stay far below this. */
const MAX_CURSOR_LENGTH = 256;

const isName = (value: unknown): value is string => typeof value === 'string' && value.length <= 64;
const isWhole = (value: unknown): value is number => Number.isSafeInteger(value);

/** [a whole number; a name]: counts with a room name or username, join times with a username. */
const isNumberAndName = (key: readonly unknown[]): key is readonly [number, string] =>
  key.length === 2 && isWhole(key[0]) && isName(key[1]);

/** [a whole number or null; a name]: rooms by last activity, where silent rooms have none. */
const isOptionalNumberAndName = (key: readonly unknown[]): key is readonly [number | null, string] =>
  key.length === 2 && (key[0] === null || isWhole(key[0])) && isName(key[1]);

const CURSOR_PROBLEM = 'is not a cursor of this list: pass nextCursor from the previous page unchanged';

/**
 * Everything about paging one list: its `cursor` and `limit` input fields, the page the store is
 * asked for, and the `hasMore` / `nextCursor` fields of the answer. `list` tags its cursors, so a
 * cursor of one list is refused by another.
 */
function paging<K extends CursorKey>(list: string, isKey: (key: readonly unknown[]) => key is K) {
  return {
    input: {
      cursor: z
        .string()
        .max(MAX_CURSOR_LENGTH, CURSOR_PROBLEM)
        .transform((cursor, ctx) => {
          const key = decodeCursor(list, cursor, isKey);
          if (key === null) {
            ctx.addIssue({ code: 'custom', message: CURSOR_PROBLEM });
            return z.NEVER;
          }
          return key;
        })
        .optional(),
      limit: listLimitSchema.optional(),
    },
    request: (input: { cursor?: K; limit?: number } | undefined) => ({
      after: input?.cursor,
      limit: input?.limit ?? DEFAULT_LIST_LIMIT,
    }),
    answer: (page: { hasMore: boolean; nextKey: K | null }) => ({
      hasMore: page.hasMore,
      nextCursor: page.nextKey === null ? null : encodeCursor(list, page.nextKey),
    }),
  };
}

/** Rooms by recent activity: [last message time in ms, or null for a silent room; name]. */
export const roomListPaging = paging('rooms', isOptionalNumberAndName);
/** Rooms by message count: [count; name]. */
export const roomCountPaging = paging('room-counts', isNumberAndName);
/** Users by message count, overall or in one room: [count; username]. */
export const userCountPaging = paging('user-counts', isNumberAndName);
/** One user's rooms by that user's message count in each: [count; room name]. */
export const userRoomPaging = paging('user-rooms', isNumberAndName);
/** Members in join order: [joined at, in ms; username]. */
export const memberPaging = paging('members', isNumberAndName);

/** Added to every paged list's answer, next to the list itself. */
export const pageOutput = {
  /** Whether rows follow this page. */
  hasMore: z.boolean(),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: z.string().nullable(),
};

export const userSchema = z.object({ username: z.string() });

export const reactionSchema = z.object({
  emoji: z.string(),
  count: z.number().int(),
  /** Who reacted, in the order they did. */
  usernames: z.array(z.string()),
});

export const replyPreviewSchema = z.object({
  seq: z.number().int(),
  author: z.string(),
  /** The original's text, cut to REPLY_EXCERPT_LENGTH characters; "" once it is deleted. */
  text: z.string(),
  deleted: z.boolean(),
});
export type ReplyPreview = z.infer<typeof replyPreviewSchema>;

export const messageSchema = z.object({
  id: z.number().int(),
  room: z.string(),
  seq: z.number().int(),
  author: z.string(),
  /** "" once the message is deleted. */
  text: z.string(),
  createdAt: z.iso.datetime(),
  clientId: z.string().nullable(),
  editedAt: z.iso.datetime().nullable(),
  deletedAt: z.iso.datetime().nullable(),
  /** Ordered by first use; a deleted message has none. */
  reactions: z.array(reactionSchema),
  replyTo: replyPreviewSchema.nullable(),
  /** Members this message mentions (`@name`, any letter case): canonical usernames, each once. */
  mentions: z.array(z.string()),
});
export type MessageDto = z.infer<typeof messageSchema>;

export const roomSummarySchema = z.object({
  name: z.string(),
  memberCount: z.number().int(),
  messageCount: z.number().int(),
  lastSeq: z.number().int(),
  lastMessageAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
export type RoomSummary = z.infer<typeof roomSummarySchema>;

/** One of the signed-in user's rooms (issue 13): what the room list and its badges show. */
export const myRoomSchema = z.object({
  name: z.string(),
  /** Messages after lastReadSeq, not by this user, not deleted; counts stop at 1000. */
  unreadCount: z.number().int(),
  /** Of those, the ones that mention this user. */
  mentionCount: z.number().int(),
  lastReadSeq: z.number().int(),
  lastSeq: z.number().int(),
  lastMessageAt: z.iso.datetime().nullable(),
});
export type MyRoomDto = z.infer<typeof myRoomSchema>;
