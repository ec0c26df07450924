import type { AnyRouter } from '@trpc/server';
import { fastifyRequestHandler } from '@trpc/server/adapters/fastify';
import {
  getErrorShape,
  getHTTPStatusCodeFromError,
  getTRPCErrorFromUnknown,
  transformTRPCResponse,
} from '@trpc/server/unstable-core-do-not-import';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runMutation } from './run-mutation.ts';

/**
 * The mutations taken off tRPC's adapter: the ones a chat sends all the time. messages.post is the
 * one the fan-out cost measures (each post is accepted, then delivered to every subscriber).
 */
export const SINGLE_CALL_PATHS = ['messages.post', 'rooms.typing', 'rooms.markRead'] as const;

/** What tRPC's Fastify plugin is given (fastifyTRPCPlugin's trpcOptions), for the fallback. */
export interface SingleCallOptions<TRouter extends AnyRouter> {
  router: TRouter;
  maxBatchSize?: number;
  createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => Promise<unknown>;
  onError?: (opts: {
    error: ReturnType<typeof getTRPCErrorFromUnknown>;
    type: 'mutation';
    path: string;
    input: unknown;
    ctx: unknown;
    req: FastifyRequest;
  }) => void;
}

/**
 * Hot mutations (SINGLE_CALL_PATHS) sent as one call, `POST /api/trpc/<path>` with a JSON body, alone
 * or as a batch of one (`?batch=1`, as httpBatchLink sends a lone call), run without tRPC's fetch adapter: it turns every request into a WHATWG Request
 * (undici, two AbortSignals, a ReadableStream body) and every answer into a Response that Fastify
 * then streams back. That glue cost more than the procedure itself: a do-nothing tRPC mutation
 * took 2.4–2.7 ms of server CPU per call at 30 calls/s (cold caches between calls), a plain Fastify
 * route 1.3 ms (decision 011).
 *
 * The call still goes through tRPC: `callProcedure` runs the same middlewares, input and output
 * validation and error formatter, and the answer is built with tRPC's own helpers (the result or
 * error envelope, the error's HTTP status), so it is the answer tRPC's adapter sends; the tests
 * compare the two for successes and every kind of error. Anything else (a batch, another content
 * type, `trpc-accept`, a body that is not JSON) goes to tRPC's adapter unchanged.
 *
 * Registered inside its own plugin with tRPC's body parser (the raw string), so the fallback sees
 * the request exactly as the adapter's own route would.
 */
export async function registerSingleCallRoutes<TRouter extends AnyRouter>(
  server: FastifyInstance,
  prefix: string,
  paths: readonly string[],
  options: SingleCallOptions<TRouter>,
): Promise<void> {
  await server.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    for (const path of paths) {
      scope.post(`${prefix}/${path}`, async (req, reply) => {
        const call = singleCallInput(req);
        if (call === NOT_SIMPLE) {
          // The adapter's own handler, with the options its plugin route passes.
          await fastifyRequestHandler({ ...options, req, res: reply, path } as Parameters<
            typeof fastifyRequestHandler
          >[0]);
          return reply;
        }
        return answer(options, path, call, req, reply);
      });
    }
  });
}

const NOT_SIMPLE = Symbol('not a simple call');

interface SimpleCall {
  input: unknown;
  /** A batch of one: the input is the body's "0", the answer a one-element array. */
  batch: boolean;
}

/** The call when the request is one JSON call that tRPC would read the same way, else NOT_SIMPLE. */
function singleCallInput(req: FastifyRequest): SimpleCall | typeof NOT_SIMPLE {
  const queryAt = req.url.indexOf('?');
  const query = queryAt === -1 ? '' : req.url.slice(queryAt + 1);
  if (query !== '' && query !== 'batch=1') return NOT_SIMPLE;
  const batch = query === 'batch=1';
  if (req.headers['trpc-accept'] !== undefined) return NOT_SIMPLE;
  const type = req.headers['content-type'];
  if (type === undefined || !type.toLowerCase().startsWith('application/json')) return NOT_SIMPLE;
  const body = req.body;
  if (typeof body !== 'string') return NOT_SIMPLE;
  if (body === '') return batch ? NOT_SIMPLE : { input: undefined, batch };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // tRPC answers a PARSE_ERROR for it.
    return NOT_SIMPLE;
  }
  if (!batch) return { input: parsed, batch };
  // tRPC reads a batch's inputs by index; anything but an object is its to refuse.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return NOT_SIMPLE;
  return { input: (parsed as Record<string, unknown>)['0'], batch };
}

async function answer<TRouter extends AnyRouter>(
  options: SingleCallOptions<TRouter>,
  path: string,
  { input, batch }: SimpleCall,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const config = options.router._def._config;
  const envelope = (item: unknown) => JSON.stringify(batch ? [item] : item);
  const made = { ctx: undefined as unknown };
  // As tRPC's resolveResponse: it varies on these, whatever the answer.
  reply.header('vary', 'trpc-accept, accept');
  try {
    const data = await runMutation(options, path, input, req, reply, made);
    return reply
      .code(200)
      .type('application/json')
      .send(envelope(transformTRPCResponse(config, { result: { data } })));
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    options.onError?.({ error, type: 'mutation', path, input, ctx: made.ctx, req });
    const shape = getErrorShape({ config, error, type: 'mutation', path, input, ctx: made.ctx });
    return reply
      .code(getHTTPStatusCodeFromError(error))
      .type('application/json')
      .send(envelope(transformTRPCResponse(config, { error: shape })));
  }
}
