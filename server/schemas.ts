import { z } from 'zod';

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
  .regex(/^[A-Za-z0-9_.-]{3,32}$/, 'must be 3–32 characters: letters, digits, "_", "." or "-"');

export const passwordSchema = z
  .string({ error: 'password is required' })
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters');

export const roomNameSchema = z
  .string({ error: 'room is required' })
  .overwrite(decodePercent)
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_-]{1,64}$/, 'must be 1–64 characters: a–z, 0–9, "_" or "-"');

export const MAX_MESSAGE_LENGTH = 4000;

export const messageTextSchema = z
  .string({ error: 'text is required' })
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`);

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
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  ) as unknown as z.ZodType<number, number | string>;

export const seqSchema = wholeNumber(0, Number.MAX_SAFE_INTEGER);
export const limitSchema = wholeNumber(1, 100);

export const userSchema = z.object({ username: z.string() });

export const messageSchema = z.object({
  id: z.number().int(),
  room: z.string(),
  seq: z.number().int(),
  author: z.string(),
  text: z.string(),
  createdAt: z.iso.datetime(),
  clientId: z.string().nullable(),
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
