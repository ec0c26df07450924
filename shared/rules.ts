/**
 * Field rules shared by the server (server/schemas.ts builds its zod schemas on them) and the web
 * app (checks forms before a round trip). Plain constants and functions only: no imports, so the
 * web bundle never pulls in server code or zod.
 */

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
export const USERNAME_RULE = '3–32 characters: letters, digits, "_", "." or "-"';

/** Usernames are trimmed before the rule applies. */
export function isValidUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value.trim());
}

export const ROOM_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const ROOM_NAME_RULE = '1–64 characters: a–z, 0–9, "_" or "-"';

/** Room names are trimmed and lower-cased before the rule applies. */
export function normalizeRoomName(value: string): string {
  return value.trim().toLowerCase();
}

export function isValidRoomName(value: string): boolean {
  return ROOM_NAME_PATTERN.test(normalizeRoomName(value));
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** In UTF-16 code units (JavaScript's `length`), after normalisation. */
export const MAX_MESSAGE_LENGTH = 4000;

/**
 * Line breaks become "\n" before anything else is checked or stored: a Windows client's "\r\n"
 * and an old Mac's "\r" are the same line break, and storing one form keeps a retried post (same
 * clientId) equal to the stored one whichever client sent it.
 */
export function normalizeLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/**
 * An unpaired UTF-16 surrogate: not text. SQLite would store it as U+FFFD, so a retry with the same
 * clientId would no longer match what was stored. With the `u` flag a well-formed pair is one code
 * point, so only a lone half matches.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Control characters (C0, DEL and C1: Unicode's Cc) other than "\t" and "\n" ("\r" is gone by now). They do not
 * display, and some (ESC, the C1 CSI) drive terminals that show logs or exported chats.
 */
const FORBIDDEN_CONTROL = /[^\P{Cc}\t\n]/u;

/**
 * Characters that show nothing: whitespace, format characters (zero-width space and joiners,
 * direction marks, the BOM), default-ignorable code points (variation selectors, Hangul fillers,
 * soft hyphen…) and the blank Braille pattern, a common trick to post "nothing".
 */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

export const MESSAGE_TEXT_PROBLEMS = {
  malformed: 'must be well-formed Unicode text (it has an unpaired surrogate)',
  control: 'must not contain control characters other than line breaks and tabs',
  blank: 'must not be blank',
  tooLong: `must be at most ${MAX_MESSAGE_LENGTH} characters`,
} as const;

export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text);
export const hasForbiddenControl = (text: string): boolean => FORBIDDEN_CONTROL.test(text);
export const isBlankText = (text: string): boolean => INVISIBLE_ONLY.test(text);

/** Line breaks normalised and surrounding whitespace trimmed: the text as the server stores it. */
export function normalizeMessageText(text: string): string {
  return normalizeLineBreaks(text).trim();
}

/** What is wrong with a message text (normalised first), or null when it can be posted. */
export function messageTextProblem(text: string): string | null {
  const normalized = normalizeMessageText(text);
  if (hasLoneSurrogate(normalized)) return MESSAGE_TEXT_PROBLEMS.malformed;
  if (hasForbiddenControl(normalized)) return MESSAGE_TEXT_PROBLEMS.control;
  if (isBlankText(normalized)) return MESSAGE_TEXT_PROBLEMS.blank;
  if (normalized.length > MAX_MESSAGE_LENGTH) return MESSAGE_TEXT_PROBLEMS.tooLong;
  return null;
}

/**
 * At most this many calls in one tRPC HTTP batch; more are refused with 400 (give httpBatchLink
 * `maxItems`). `auth.*` calls are never batched with others.
 */
export const MAX_BATCH_SIZE = 10;

/** Page size of the room, member and statistics lists: `limit` defaults to this… */
export const DEFAULT_LIST_LIMIT = 100;
/** …and may be at most this. */
export const MAX_LIST_LIMIT = 200;

/** Quotes of the message replied to are cut to this many characters (UTF-16 code units, like MAX_MESSAGE_LENGTH). */
export const REPLY_EXCERPT_LENGTH = 200;

/** At most this many different emoji on one message. */
export const MAX_REACTIONS_PER_MESSAGE = 20;

/** Longer than any real emoji (the longest ZWJ sequences and subdivision flags are about 14 code units). */
const MAX_EMOJI_LENGTH = 32;
/**
 * The shapes of Unicode's emoji (UTS #51): a flag (two regional indicators); a keycap (0-9, # or *,
 * an optional VS16, U+20E3); or pictographic emoji joined by ZWJ, each with an optional skin-tone
 * modifier, VS16 and (subdivision flags) tag characters. Nothing else may ride along: no combining
 * marks, no prefix characters, no text.
 */
const PICTOGRAPH = '\\p{Extended_Pictographic}(?:\\p{Emoji_Modifier}|\\uFE0F|[\\u{E0020}-\\u{E007F}])*';
const EMOJI_SHAPE = new RegExp(
  `^(?:\\p{Regional_Indicator}{2}|[0-9#*]\\uFE0F?\\u20E3|${PICTOGRAPH}(?:\\u200D${PICTOGRAPH})*)$`,
  'u',
);

export const EMOJI_RULE = 'must be one emoji, e.g. 👍';

/**
 * One extended grapheme cluster from Unicode's emoji set: a pictographic emoji with its modifiers,
 * variation selectors and ZWJ parts, a flag or a keycap. Intl.Segmenter checks it is one cluster
 * and the pattern above checks what it is made of; no library needed (decision 019).
 */
export function isSingleEmoji(value: string): boolean {
  if (value.length === 0 || value.length > MAX_EMOJI_LENGTH || !EMOJI_SHAPE.test(value)) return false;
  return [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(value)].length === 1;
}

/** The start of `text`, at most REPLY_EXCERPT_LENGTH code units, never splitting a surrogate pair. */
export function replyExcerpt(text: string): string {
  if (text.length <= REPLY_EXCERPT_LENGTH) return text;
  let end = REPLY_EXCERPT_LENGTH;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}
