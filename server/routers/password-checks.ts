import { TRPCError } from '@trpc/server';
import { ZodRealError } from 'zod';
import type { Context } from '../context.ts';
import { clientKey } from '../lib/client-key.ts';
import { getDecoyHash, hashPassword, verifyPassword } from '../lib/password.ts';
import type { GateTicket } from '../lib/password-gate.ts';
import { newPasswordProblem } from '../lib/password-policy.ts';
import type { UserRow } from '../store/store.ts';
import { enforceLimit } from './errors.ts';

/** A refused place in the password gate frees up within one argon2id run: retry after a second. */
const GATE_RETRY_SECONDS = 1;

/**
 * Runs `work` holding a place in the password gate, which bounds the argon2id work running and
 * waiting, overall and per client IP. Refused at once: 429 when this IP already holds its share,
 * 503 when the whole gate is full; both with Retry-After.
 */
export async function withPasswordGate<T>(ctx: Context, work: (gate: GateTicket) => Promise<T>): Promise<T> {
  const ticket = ctx.passwordGate.enter(clientKey(ctx.http.ip), ctx.connection?.socket);
  if (typeof ticket === 'string') {
    ctx.http.setHeader('Retry-After', String(GATE_RETRY_SECONDS));
    throw ticket === 'connection-busy'
      ? new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `One password check at a time per connection: wait for the previous answer, or try again in ${GATE_RETRY_SECONDS} s`,
        })
      : ticket === 'client-busy'
        ? new TRPCError({
            code: 'TOO_MANY_REQUESTS',
            message: `Too many password checks at once from this address; try again in ${GATE_RETRY_SECONDS} s`,
          })
        : new TRPCError({
            code: 'SERVICE_UNAVAILABLE',
            message: `The server is busy checking other passwords; try again in ${GATE_RETRY_SECONDS} s`,
          });
  }
  try {
    return await work(ticket);
  } finally {
    ticket.leave();
  }
}

/** Hashes a new password inside the gate. */
export function hashNewPassword(gate: GateTicket, password: string): Promise<string> {
  return gate.run(() => hashPassword(password));
}

/**
 * 400 naming `field` when `password` may not become the password of `username`. Thrown as a zod
 * error so tRPC and REST answer exactly as for any other invalid field (message and fieldErrors).
 */
export function assertNewPassword(field: string, username: string, password: string): void {
  const problem = newPasswordProblem(username, password);
  if (problem === null) return;
  // ZodRealError is the Error subclass zod itself throws; a plain `new ZodError` is not an Error,
  // so tRPC would wrap it and the field would be lost.
  const cause = new ZodRealError([{ code: 'custom', path: [field], message: problem }]);
  throw new TRPCError({ code: 'BAD_REQUEST', message: `${field}: ${problem}`, cause });
}

/**
 * Checks `username`'s password, for sign-in and for change-password. Every budget is taken
 * before the slow argon2id check, so parallel attempts cannot all be checked before any of them
 * counts (the race the audit found), then settled by the outcome:
 * - attempts per client IP: kept either way (they bound the hashing one address can cause);
 * - failures per username + client IP: cleared by a success. Keying by IP as well means someone
 *   elsewhere guessing at a name cannot lock its owner out;
 * - failures per client IP across usernames: a success gives its point back.
 * Unknown usernames are checked against a decoy hash and count like wrong passwords.
 */
export async function verifyCredentials(
  ctx: Context,
  gate: GateTicket,
  username: string,
  password: string,
  wrongMessage = 'Wrong username or password',
): Promise<UserRow> {
  const client = clientKey(ctx.http.ip);
  const failureKey = `${username.toLowerCase()}|${client}`;
  const limits = ctx.limits;
  if (limits) {
    enforceLimit(ctx, await limits.signInAttempts.consume(client), 'Too many sign-in attempts from this address');
    enforceLimit(ctx, await limits.signInFailures.consume(failureKey), 'Too many failed sign-ins for this username');
    const byIp = await limits.signInFailuresByIp.consume(client);
    if (!byIp.allowed) await limits.signInFailures.refund(failureKey);
    enforceLimit(ctx, byIp, 'Too many failed sign-ins from this address');
  }
  const user = await ctx.store.users.findByUsername(username);
  const ok = await gate.run(async () => verifyPassword(user?.passwordHash ?? (await getDecoyHash()), password));
  if (!user || !ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: wrongMessage });
  if (limits) await Promise.all([limits.signInFailures.reset(failureKey), limits.signInFailuresByIp.refund(client)]);
  return user;
}
