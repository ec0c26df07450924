/**
 * The ceiling for the send and history scenarios: the server's HTTP stack with nothing behind it.
 * Fastify is built with the same options as server/app.ts, with the same security hooks (helmet
 * headers, CSRF guard), cookie parsing, JSON body parser and tRPC adapter, and the same tRPC
 * instance (router, procedures, error formatter). Only the work is missing: no session lookup, no
 * validation, no database. Started by the bench like the real server: PORT, HOST, RATE_LIMITS, LOG_LEVEL.
 */
import cookie from '@fastify/cookie';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify from 'fastify';
import { fastifyOptions } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import { type Context, noHttp } from '../server/context.ts';
import { registerJsonBody } from '../server/http/json-body.ts';
import { registerSecurity } from '../server/http/security.ts';
import { disabledMetrics } from '../server/metrics/metrics.ts';
import { publicProcedure, router } from '../server/trpc.ts';

const baselineRouter = router({
  /** Stands in for messages.post: answers at once, writes nothing. */
  noop: publicProcedure.mutation(() => ({ ok: true as const })),
  /** Stands in for messages.list: answers at once, reads nothing. */
  ping: publicProcedure.query(() => ({ ok: true as const })),
});

type BaselineRouter = typeof baselineRouter;

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const server = Fastify(fastifyOptions(config));
  registerJsonBody(server);
  await server.register(cookie);
  await registerSecurity(server, config);
  // The procedures never read the context; a shell of the real one keeps server/trpc.ts's types.
  // The call-counting middleware of publicProcedure runs, with metrics off.
  const context = {
    user: null,
    sessionId: null,
    http: noHttp,
    connection: null,
    metrics: disabledMetrics,
    transport: 'trpc-http',
  } as unknown as Context;
  await server.register(fastifyTRPCPlugin<BaselineRouter>, {
    prefix: '/api/trpc',
    trpcOptions: { router: baselineRouter, createContext: () => context },
  });
  server.get('/healthz', async () => ({ status: 'ok' }));
  await server.listen({ port: config.PORT, host: config.HOST });

  const shutdown = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
