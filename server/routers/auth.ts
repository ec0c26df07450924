import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../context.ts';
import { clientKey } from '../lib/client-key.ts';
import { createSessionToken, hashSessionToken, SESSION_TTL_MS } from '../lib/session-token.ts';
import { passwordSchema, usernameSchema, userSchema } from '../schemas.ts';
import { authedProcedure, publicProcedure, router } from '../trpc.ts';
import { enforceLimit } from './errors.ts';
import { assertNewPassword, hashNewPassword, verifyCredentials, withPasswordGate } from './password-checks.ts';

const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema });
const sessionSchema = z.object({ user: userSchema, token: z.string() });
const okSchema = z.object({ ok: z.literal(true) });
const NEW_PASSWORD_RULE =
  '8–256 characters, not one of the most common passwords and not the username (any letter case)';

/** A new session's token, and what the store keeps of it. */
function newSession(ctx: Context) {
  const token = createSessionToken();
  return { token, tokenHash: hashSessionToken(token), expiresAt: new Date(ctx.now().getTime() + SESSION_TTL_MS) };
}

/** The answer of sign-up and sign-in once the session is stored: the cookie and the token. */
function sessionAnswer(ctx: Context, user: { username: string }, session: ReturnType<typeof newSession>) {
  ctx.http.setSessionCookie(session.token, session.expiresAt);
  return { user: { username: user.username }, token: session.token };
}

async function startSession(ctx: Context, user: { id: number; username: string }) {
  const session = newSession(ctx);
  await ctx.store.sessions.insert(user.id, session.tokenHash, session.expiresAt);
  return sessionAnswer(ctx, user, session);
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
        description: `The password must be ${NEW_PASSWORD_RULE}.`,
        errorResponses: {
          400: 'Invalid input, or a password that is too common or equals the username',
          409: 'Username taken',
          429: 'Too many sign-ups, or password checks, from this address',
          503: 'Too many password checks in progress: retry after Retry-After',
        },
      },
    })
    .input(credentialsSchema)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      assertNewPassword('password', input.username, input.password);
      return withPasswordGate(ctx, async (gate) => {
        if (ctx.limits) {
          enforceLimit(
            ctx,
            await ctx.limits.signUp.consume(clientKey(ctx.http.ip)),
            'Too many sign-ups from this address',
          );
        }
        const taken = () =>
          new TRPCError({ code: 'CONFLICT', message: `Username "${input.username}" is taken; choose another` });
        if (await ctx.store.users.findByUsername(input.username)) throw taken();
        const passwordHash = await hashNewPassword(gate, input.password);
        const session = newSession(ctx);
        const user = await ctx.store.users.insertWithSession(input.username, passwordHash, session);
        if (!user) throw taken();
        return sessionAnswer(ctx, user, session);
      });
    }),

  signIn: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-in',
        tags: ['auth'],
        protect: false,
        summary: 'Start a session with username and password',
        errorResponses: {
          400: 'Invalid input',
          401: 'Wrong username or password',
          429: 'Too many failed sign-ins or sign-in attempts',
          503: 'Too many password checks in progress: retry after Retry-After',
        },
      },
    })
    .input(credentialsSchema)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await withPasswordGate(ctx, (gate) => verifyCredentials(ctx, gate, input.username, input.password));
      return startSession(ctx, user);
    }),

  changePassword: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/change-password',
        tags: ['auth'],
        summary: 'Change the password; every other session of the user ends',
        description: `The new password must be ${NEW_PASSWORD_RULE}. This session stays signed in; every other session stops working and its live connections close. A wrong current password counts as a failed sign-in.`,
        errorResponses: {
          400: 'Invalid input, or a new password that is too common or equals the username',
          401: 'Not signed in, or wrong current password',
          429: 'Too many failed sign-ins or sign-in attempts',
          503: 'Too many password checks in progress: retry after Retry-After',
        },
      },
    })
    .input(z.object({ currentPassword: passwordSchema, newPassword: passwordSchema }))
    .output(okSchema)
    .mutation(async ({ ctx, input }) => {
      const { user, sessionId } = ctx;
      assertNewPassword('newPassword', user.username, input.newPassword);
      const passwordHash = await withPasswordGate(ctx, async (gate) => {
        await verifyCredentials(ctx, gate, user.username, input.currentPassword, 'Wrong current password');
        return hashNewPassword(gate, input.newPassword);
      });
      const ended = await ctx.store.users.changePassword(user.id, passwordHash, sessionId ?? undefined);
      ctx.connections.closeSessions(ended);
      return { ok: true as const };
    }),

  signOut: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-out',
        tags: ['auth'],
        summary: 'End this session: its token stops working',
        errorResponses: { 401: 'Not signed in' },
      },
    })
    // No .input(): tRPC's httpLink sends an input-less mutation with an empty body, which a
    // z.void() input rejects as malformed JSON.
    .output(okSchema)
    .mutation(async ({ ctx }) => {
      if (ctx.sessionId !== null) {
        await ctx.store.sessions.delete(ctx.sessionId);
        // Its WebSockets close too (after answering this call, if it came over one of them).
        ctx.connections.closeSessions([ctx.sessionId]);
      }
      ctx.http.clearSessionCookie();
      return { ok: true as const };
    }),

  signOutAll: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/sign-out-all',
        tags: ['auth'],
        summary: "End every session of the user, this one included, and close the user's live connections",
        errorResponses: { 401: 'Not signed in' },
      },
    })
    .output(okSchema)
    .mutation(async ({ ctx }) => {
      const ended = await ctx.store.sessions.deleteForUser(ctx.user.id);
      ctx.http.clearSessionCookie();
      ctx.connections.closeSessions(ended);
      return { ok: true as const };
    }),

  me: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/auth/me',
        tags: ['auth'],
        summary: 'Who this session belongs to',
        errorResponses: { 401: 'Not signed in' },
      },
    })
    .input(z.void())
    .output(z.object({ user: userSchema }))
    .query(({ ctx }) => ({ user: { username: ctx.user.username } })),
});
