import { type AnyRouter, TRPCError } from '@trpc/server';
import { getErrorShape, getHTTPStatusCodeFromError } from '@trpc/server/unstable-core-do-not-import';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runMutation } from './run-mutation.ts';

/** trpc-to-openapi's catch-all route (openapi.ts registers it under /api). */
const REST_CATCH_ALL = '/api/*';

/** A REST operation answered here instead of by trpc-to-openapi, and the procedure it calls. */
interface HotOperation {
  method: string;
  /** Matches the whole request URL; its `room` group is the path parameter, as sent (not decoded). */
  pattern: RegExp;
  path: string;
}

/** `POST /api/rooms/{room}/messages`: the post, which every subscriber of the room then receives. */
const HOT_OPERATIONS: readonly HotOperation[] = [
  { method: 'POST', pattern: /^\/api\/rooms\/(?<room>[^/?]+)\/messages$/i, path: 'messages.post' },
];

interface RestSingleCallOptions<TRouter extends AnyRouter> {
  router: TRouter;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => Promise<unknown>;
  onError?: (opts: { error: TRPCError; path: string }) => void;
}

/**
 * The REST post without trpc-to-openapi's per-request glue: for every request its Fastify adapter
 * binds ten Node methods onto Fastify's request and reply, redefines `statusCode`, parses the URL
 * again, finds the operation by trying each path pattern, and arms an AbortSignal with listeners;
 * then it calls the procedure through a router caller. At 30 posts/s (cold caches between posts) a
 * REST post cost 3.1–4.5 ms of server CPU against 1.8–2.5 ms for the same post over tRPC without
 * the fetch adapter (trpc-single-call.ts; decision 011).
 *
 * A preHandler hook on the catch-all route, after Fastify has parsed the body: a request it takes is
 * answered here exactly as trpc-to-openapi would answer it (the same input, `{...body, ...path
 * parameters}`, the procedure through tRPC's `callProcedure`, the same success body, and the same
 * error body, status and `Input validation failed` wording; the tests compare the two). Anything
 * else, including a query string or a body that is not JSON, is left to trpc-to-openapi.
 */
export function registerRestSingleCalls<TRouter extends AnyRouter>(
  server: FastifyInstance,
  options: RestSingleCallOptions<TRouter>,
): void {
  server.addHook('preHandler', async (req, reply) => {
    if (req.routeOptions.url !== REST_CATCH_ALL) return;
    const operation = HOT_OPERATIONS.find((candidate) => candidate.method === req.method);
    const match = operation?.pattern.exec(req.url);
    if (!operation || !match?.groups) return;
    // trpc-to-openapi answers 415 for other types: leave those to it.
    if (!req.headers['content-type']?.startsWith('application/json')) return;
    const input = { ...(req.body as object), ...match.groups };
    await answer(options, operation.path, input, req, reply);
    return reply;
  });
}

async function answer<TRouter extends AnyRouter>(
  options: RestSingleCallOptions<TRouter>,
  path: string,
  input: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const made = { ctx: undefined as unknown };
  try {
    const data = await runMutation(options, path, input, req, reply, made);
    reply.code(200).header('content-type', 'application/json').send(JSON.stringify(data));
  } catch (cause) {
    const error = restErrorOf(cause);
    options.onError?.({ error, path });
    const shape = getErrorShape({
      config: options.router._def._config,
      error,
      type: 'mutation',
      path,
      input,
      ctx: made.ctx,
    });
    // As trpc-to-openapi (adapters/node-http/core.ts): zod's issues instead of the formatted sentence.
    const invalidInput =
      error.code === 'BAD_REQUEST' && error.cause instanceof Error && error.cause.name === 'ZodError';
    const body = {
      ...shape,
      message: invalidInput ? 'Input validation failed' : (shape?.message ?? error.message ?? 'An error occurred'),
      code: error.code,
      issues: invalidInput ? (error.cause as Error & { issues: unknown }).issues : undefined,
    };
    reply.code(getHTTPStatusCodeFromError(error)).header('content-type', 'application/json').send(JSON.stringify(body));
  }
}

/** trpc-to-openapi's getErrorFromUnknown: anything but a TRPCError is a 500 that says no more. */
function restErrorOf(cause: unknown): TRPCError {
  if (cause instanceof Error && cause.name === 'TRPCError') return cause as TRPCError;
  const error = new TRPCError({
    message: 'Internal server error',
    code: 'INTERNAL_SERVER_ERROR',
    cause: cause instanceof Error ? cause : undefined,
  });
  if (cause instanceof Error && cause.stack) error.stack = cause.stack;
  return error;
}
