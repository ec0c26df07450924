import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../context.ts';
import { getDecoyHash, hashPassword, verifyPassword } from '../lib/password.ts';
import { createSessionToken, hashSessionToken, SESSION_TTL_MS } from '../lib/session-token.ts';
import { passwordSchema, usernameSchema, userSchema } from '../schemas.ts';
import { deleteSession, insertSession } from '../store/sessions.ts';
import { findUserByUsername, insertUser } from '../store/users.ts';
import { authedProcedure, publicProcedure, router } from '../trpc.ts';
import { enforceLimit } from './errors.ts';

const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema });
const sessionSchema = z.object({ user: userSchema, token: z.string() });

function startSession(ctx: Context, user: { id: number; username: string }) {
  const token = createSessionToken();
  const expiresAt = new Date(ctx.now().getTime() + SESSION_TTL_MS);
  insertSession(ctx.db, user.id, hashSessionToken(token), expiresAt);
  ctx.http.setSessionCookie(token, expiresAt);
  return { user: { username: user.username }, token };
}

export const authRouter = router({
  signUp: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-up',
        tags: ['auth'],
        protect: false,
        summary: 'Create an account and start a session',
        errorResponses: { 400: 'Invalid input', 409: 'Username taken', 429: 'Too many sign-ups' },
      },
    })
    .input(credentialsSchema)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      if (ctx.limits) enforceLimit(ctx, ctx.limits.signUp.take(ctx.http.ip), 'Too many sign-ups from this address');
      const taken = () =>
        new TRPCError({ code: 'CONFLICT', message: `Username "${input.username}" is taken; choose another` });
      if (findUserByUsername(ctx.db, input.username)) throw taken();
      const user = insertUser(ctx.db, input.username, await hashPassword(input.password));
      if (!user) throw taken();
      return startSession(ctx, user);
    }),

  signIn: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-in',
        tags: ['auth'],
        protect: false,
        summary: 'Start a session with username and password',
        errorResponses: { 400: 'Invalid input', 401: 'Wrong username or password', 429: 'Too many failed sign-ins' },
      },
    })
    .input(credentialsSchema)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      const key = input.username.toLowerCase();
      if (ctx.limits) {
        enforceLimit(ctx, ctx.limits.signInFailures.check(key), 'Too many failed sign-ins for this username');
      }
      const user = findUserByUsername(ctx.db, input.username);
      const ok = await verifyPassword(user?.passwordHash ?? (await getDecoyHash()), input.password);
      if (!user || !ok) {
        ctx.limits?.signInFailures.recordFailure(key);
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong username or password' });
      }
      ctx.limits?.signInFailures.reset(key);
      return startSession(ctx, user);
    }),

  signOut: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-out',
        tags: ['auth'],
        summary: 'End this session: its token stops working',
      },
    })
    // No .input(): tRPC's httpLink sends an input-less mutation with an empty body, which a
    // z.void() input rejects as malformed JSON.
    .output(z.object({ ok: z.literal(true) }))
    .mutation(({ ctx }) => {
      if (ctx.sessionId !== null) {
        deleteSession(ctx.db, ctx.sessionId);
        // Its WebSockets close too (after answering this call, if it came over one of them).
        ctx.connections.closeSessions([ctx.sessionId]);
      }
      ctx.http.clearSessionCookie();
      return { ok: true as const };
    }),

  me: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/auth/me', tags: ['auth'], summary: 'Who this session belongs to' } })
    .input(z.void())
    .output(z.object({ user: userSchema }))
    .query(({ ctx }) => ({ user: { username: ctx.user.username } })),
});
