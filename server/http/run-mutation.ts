import type { AnyRouter } from '@trpc/server';
import { callProcedure } from '@trpc/server/unstable-core-do-not-import';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface MutationTarget<TRouter extends AnyRouter> {
  router: TRouter;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => Promise<unknown>;
}

/**
 * Makes the request's context and runs one mutation through tRPC's `callProcedure` (its middlewares,
 * input and output validation), as both HTTP adapters do. `made.ctx` is set as soon as the context
 * exists, for the error shape of a call that then fails.
 */
export async function runMutation<TRouter extends AnyRouter>(
  target: MutationTarget<TRouter>,
  path: string,
  input: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
  made: { ctx: unknown },
): Promise<unknown> {
  made.ctx = await target.createContext({ req, res: reply });
  return callProcedure({
    router: target.router,
    path,
    getRawInput: async () => input,
    ctx: made.ctx,
    type: 'mutation',
    signal: undefined,
    batchIndex: 0,
  });
}
