import { expect } from 'vitest';
import { type RestResponse, rest } from './clients.ts';
import { expectRestError, type MessageDto, type TestUser, trpcFailure } from './fixtures.ts';

/** The fields of a message, in the order the API answers them (issue 12's contract; issue 13 added mentions). */
export const MESSAGE_KEYS = [
  'id',
  'room',
  'seq',
  'author',
  'text',
  'createdAt',
  'clientId',
  'editedAt',
  'deletedAt',
  'reactions',
  'replyTo',
  'mentions',
];

/** What one call answered, whichever transport carried it. */
export interface Outcome {
  status: number;
  /** The answer's `message` on a 200. */
  message?: MessageDto;
  /** REST: the whole response; tRPC: the error message on failure. */
  response?: RestResponse<unknown>;
  failure?: string;
}

export type TransportName = 'REST' | 'tRPC';

/** messages.post / edit / delete / react / unreact over one transport, answering the status either way. */
export interface MessageApi {
  name: TransportName;
  post(user: TestUser, room: string, text: string, replyTo?: number): Promise<Outcome>;
  edit(user: TestUser, room: string, seq: number, text: string): Promise<Outcome>;
  remove(user: TestUser, room: string, seq: number): Promise<Outcome>;
  react(user: TestUser, room: string, seq: number, emoji: string): Promise<Outcome>;
  unreact(user: TestUser, room: string, seq: number, emoji: string): Promise<Outcome>;
}

async function overRest(
  baseUrl: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Outcome> {
  const response = await rest<unknown>(baseUrl, method, path, { token, body });
  if (response.status !== 200) return { status: response.status, response };
  // The answer is exactly {message}.
  expect(Object.keys(response.body as object)).toEqual(['message']);
  return { status: 200, message: (response.body as { message: MessageDto }).message, response };
}

async function overTrpc(call: Promise<{ message: MessageDto }>): Promise<Outcome> {
  try {
    const body = await call;
    expect(Object.keys(body)).toEqual(['message']);
    return { status: 200, message: body.message };
  } catch (error) {
    const failure = await trpcFailure(Promise.reject(error));
    return { status: failure.status, failure: failure.message };
  }
}

/** The REST paths of issue 12, with the emoji percent-encoded as a client must. */
export const restPaths = {
  messages: (room: string) => `/rooms/${room}/messages`,
  message: (room: string, seq: number | string) => `/rooms/${room}/messages/${seq}`,
  reaction: (room: string, seq: number | string, emoji: string) =>
    `/rooms/${room}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`,
};

export function messageApi(name: TransportName, baseUrl: string): MessageApi {
  if (name === 'REST') {
    return {
      name,
      post: (user, room, text, replyTo) =>
        overRest(
          baseUrl,
          'POST',
          restPaths.messages(room),
          user.token,
          replyTo === undefined ? { text } : { text, replyTo },
        ),
      edit: (user, room, seq, text) => overRest(baseUrl, 'PATCH', restPaths.message(room, seq), user.token, { text }),
      remove: (user, room, seq) => overRest(baseUrl, 'DELETE', restPaths.message(room, seq), user.token),
      react: (user, room, seq, emoji) => overRest(baseUrl, 'PUT', restPaths.reaction(room, seq, emoji), user.token),
      unreact: (user, room, seq, emoji) =>
        overRest(baseUrl, 'DELETE', restPaths.reaction(room, seq, emoji), user.token),
    };
  }
  return {
    name,
    post: (user, room, text, replyTo) => overTrpc(user.trpc.messages.post.mutate({ room, text, replyTo })),
    edit: (user, room, seq, text) => overTrpc(user.trpc.messages.edit.mutate({ room, seq, text })),
    remove: (user, room, seq) => overTrpc(user.trpc.messages.delete.mutate({ room, seq })),
    react: (user, room, seq, emoji) => overTrpc(user.trpc.messages.react.mutate({ room, seq, emoji })),
    unreact: (user, room, seq, emoji) => overTrpc(user.trpc.messages.unreact.mutate({ room, seq, emoji })),
  };
}

/** Asserts a 200 and returns the answered message, showing the error when it is not. */
export function answered(outcome: Outcome): MessageDto {
  if (outcome.status !== 200 || outcome.message === undefined) {
    throw new Error(
      `expected 200, got ${outcome.status}: ${outcome.failure ?? JSON.stringify(outcome.response?.body)}`,
    );
  }
  return outcome.message;
}

/** Asserts an error status and, for validation errors, that the error names `field`. */
export function refused(outcome: Outcome, status: number, field?: string): void {
  if (outcome.response) {
    expectRestError(outcome.response, status, field);
    return;
  }
  expect(outcome.status, outcome.failure).toBe(status);
  expect(typeof outcome.failure).toBe('string');
  if (field !== undefined) expect(outcome.failure).toContain(field);
}

/**
 * A client's picture of a room built from rooms.events alone: a `message` event adds the message,
 * an `update` replaces the message with that seq. Sorted by seq, as messages.list answers.
 */
export function roomView(events: Iterable<{ type: string; message?: MessageDto }>): MessageDto[] {
  const bySeq = new Map<number, MessageDto>();
  for (const event of events) {
    if ((event.type === 'message' || event.type === 'update') && event.message) {
      bySeq.set(event.message.seq, event.message);
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The change number of a `c<change>` event id. */
export function changeOf(id: string | undefined): number {
  const match = /^c(\d+)$/.exec(id ?? '');
  if (!match) throw new Error(`not a change id: ${id}`);
  return Number(match[1]);
}
