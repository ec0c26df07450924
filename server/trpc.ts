import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { ZodError, z } from 'zod';
import type { Context } from './context.ts';
import { admitLiveCall } from './live/call-guard.ts';
import { StoreUnavailableError } from './store/errors.ts';

/** Turns zod issues into one readable sentence: "username: at least 3 characters; password: …". */
export function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * tRPC 11.22.1 says `Unsupported content-type "text/plain` without the closing quote (still so on
 * its main branch, packages/server/src/unstable-core-do-not-import/http/contentType.ts). The
 * message is tRPC's own, built from the request header, so completing it here is safe.
 */
function completeMessage(message: string): string {
  const unclosed = /^Unsupported content-type "([^"]*)$/.exec(message);
  return unclosed ? `Unsupported content-type "${unclosed[1]}"; send application/json` : message;
}

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    // Stack traces are for the server log, never for clients.
    isDev: false,
    errorFormatter({ shape, error }) {
      const zodError = error.code === 'BAD_REQUEST' && error.cause instanceof ZodError ? error.cause : null;
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      return {
        ...shape,
        message: zodError
          ? describeIssues(zodError)
          : internal
            ? 'Internal server error'
            : completeMessage(shape.message),
        data: {
          ...shape.data,
          fieldErrors: zodError ? z.flattenError(zodError).fieldErrors : null,
        },
      };
    },
  });

export const router = t.router;
/** Counts every call and its error code, whichever transport carried it; outermost, so it sees input errors too. */
const countCalls = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  ctx.metrics.procedure(path, ctx.transport, result.ok ? null : result.error.code);
  return result;
});

/**
 * A database that cannot be reached is the server's trouble, not a bug: 503 with the store's message
 * ("The database is unavailable (…); try again shortly"), on every transport, instead of a 500.
 */
const storeUnavailable = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof StoreUnavailableError) {
    throw new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: result.error.cause.message,
      cause: result.error.cause,
    });
  }
  return result;
});

/** Every call over a WebSocket passes its connection's checks first (server/live/call-guard.ts). */
const liveCalls = t.middleware(async ({ ctx, getRawInput, next }) => {
  const connection = ctx.connection;
  if (!connection) return next();
  await admitLiveCall(ctx, connection, getRawInput);
  // Counted so that closing the socket (its session ended) waits for the answers in flight.
  connection.callStarted();
  try {
    return await next();
  } finally {
    connection.callFinished();
  }
});

export const publicProcedure = t.procedure.use(countCalls).use(storeUnavailable).use(liveCalls);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: 'Sign in first: send the session cookie or an "Authorization: Bearer <token>" header',
    });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});
