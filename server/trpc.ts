import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { ZodError, z } from 'zod';
import type { Context } from './context.ts';

/** Turns zod issues into one readable sentence: "username: at least 3 characters; password: …". */
export function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
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
        message: zodError ? describeIssues(zodError) : internal ? 'Internal server error' : shape.message,
        data: {
          ...shape.data,
          fieldErrors: zodError ? z.flattenError(zodError).fieldErrors : null,
        },
      };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

/** Counts every call and its error code, whichever transport carried it; outermost, so it sees input errors too. */
export const publicProcedure = t.procedure.use(async ({ ctx, path, next }) => {
  const result = await next();
  ctx.metrics.procedure(path, ctx.transport, result.ok ? null : result.error.code);
  return result;
});

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: 'Sign in first: send the session cookie or an "Authorization: Bearer <token>" header',
    });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});
