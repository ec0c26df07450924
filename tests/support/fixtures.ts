import { TRPCClientError } from '@trpc/client';
import { expect } from 'vitest';
import type { MessageDto, RoomSummary } from '../../server/schemas.ts';
import { type RestResponse, rest, signUp, type TrpcClient, trpcClient } from './clients.ts';

export type { MessageDto, RoomSummary };

/** The REST error body: {message, code, data:{httpStatus, fieldErrors}, issues?}. */
export interface RestErrorBody {
  message: string;
  code: string;
  data?: { httpStatus?: number; fieldErrors?: Record<string, string[]> | null };
  issues?: { path: (string | number)[]; message: string }[];
}

export interface MessagePage {
  messages: MessageDto[];
  hasMore: boolean;
}

export interface Member {
  username: string;
  online: boolean;
  joinedAt: string;
  messageCount: number;
}

export interface TestUser {
  username: string;
  password: string;
  token: string;
  trpc: TrpcClient;
}

/** Signs up a fresh user over REST and gives it a tRPC client with its token. */
export async function newUser(baseUrl: string, username?: string): Promise<TestUser> {
  const user = await signUp(baseUrl, username);
  return { ...user, trpc: trpcClient(baseUrl, user.token) };
}

/** Asserts a 200 and returns the body, showing the error body when it is not. */
export function ok<T>(response: RestResponse<T>): T {
  if (response.status !== 200) {
    throw new Error(`expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

/** Asserts a REST error status and, for validation errors, that the body names the offending field. */
export function expectRestError(response: RestResponse<unknown>, status: number, field?: string): RestErrorBody {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  const body = response.body as RestErrorBody;
  expect(typeof body.message).toBe('string');
  if (field !== undefined) {
    const inFieldErrors = Object.keys(body.data?.fieldErrors ?? {}).includes(field);
    const inIssues = (body.issues ?? []).some((issue) => issue.path[0] === field);
    expect(inFieldErrors || inIssues, `field "${field}" in ${JSON.stringify(body)}`).toBe(true);
  }
  return body;
}

export interface TrpcFailure {
  status: number;
  message: string;
}

/** Awaits a tRPC call that must fail; returns its HTTP status and message. */
export async function trpcFailure(call: Promise<unknown>): Promise<TrpcFailure> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const status = (error.data as { httpStatus?: number } | undefined)?.httpStatus;
    if (typeof status !== 'number') throw new Error(`tRPC error without an HTTP status: ${error.message}`);
    return { status, message: error.message };
  }
  throw new Error('expected the tRPC call to fail');
}

/** Asserts a tRPC error status and, for validation errors, that the message names the field. */
export async function expectTrpcError(call: Promise<unknown>, status: number, field?: string): Promise<TrpcFailure> {
  const failure = await trpcFailure(call);
  expect(failure.status, failure.message).toBe(status);
  if (field !== undefined) expect(failure.message).toContain(field);
  return failure;
}

/** Posts `count` messages over REST, one after another, and returns them. */
export async function postMany(
  baseUrl: string,
  token: string,
  room: string,
  count: number,
  text: (index: number) => string = (index) => `message ${index + 1}`,
): Promise<MessageDto[]> {
  const posted: MessageDto[] = [];
  for (let index = 0; index < count; index += 1) {
    const body = ok(
      await rest<{ message: MessageDto }>(baseUrl, 'POST', `/rooms/${room}/messages`, {
        token,
        body: { text: text(index) },
      }),
    );
    posted.push(body.message);
  }
  return posted;
}

/** Joins a room over REST. */
export async function joinRoom(baseUrl: string, token: string, room: string) {
  return ok(
    await rest<{ room: RoomSummary; created: boolean }>(baseUrl, 'POST', `/rooms/${room}/join`, { token, body: {} }),
  );
}

/** Every message of a room, paging back with `before` over REST. */
export async function allMessages(baseUrl: string, token: string, room: string): Promise<MessageDto[]> {
  const collected: MessageDto[] = [];
  let before: number | undefined;
  for (;;) {
    const query = before === undefined ? '?limit=100' : `?limit=100&before=${before}`;
    const page = ok(await rest<MessagePage>(baseUrl, 'GET', `/rooms/${room}/messages${query}`, { token }));
    collected.unshift(...page.messages);
    const first = page.messages[0];
    if (!page.hasMore || first === undefined) return collected;
    before = first.seq;
  }
}

/** The `atlas_session` Set-Cookie header of a response, if any. */
export function sessionCookie(response: RestResponse<unknown> | Response): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith('atlas_session='));
}

export function isoDate(value: string): boolean {
  return !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}
