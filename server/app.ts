import cookie from '@fastify/cookie';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { InProcessEventBus } from './bus/event-bus.ts';
import type { Config } from './config.ts';
import { type AppDeps, createContextFactory } from './context.ts';
import { openDatabase } from './db/client.ts';
import { registerRestApi } from './http/openapi.ts';
import { registerSecurity } from './http/security.ts';
import { registerWebApp } from './http/web.ts';
import { createRateLimits } from './lib/rate-limiter.ts';
import { createPresence } from './presence.ts';
import { type AppRouter, appRouter } from './routers/app-router.ts';
import { deleteExpiredSessions } from './store/sessions.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000;

export interface App {
  server: FastifyInstance;
  deps: AppDeps;
  /** Starts listening; resolves to the address actually bound (PORT=0 picks a free port). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Builds the whole server: database, event bus, timers and HTTP routes. Nothing runs at import. */
export async function createApp(config: Config): Promise<App> {
  const database = openDatabase(config.DATABASE_PATH);
  const limits = config.RATE_LIMITS === 'on' ? createRateLimits() : null;
  const deps: AppDeps = {
    db: database.db,
    bus: new InProcessEventBus(),
    presence: createPresence(),
    limits,
    now: () => new Date(),
  };

  const server = Fastify({
    logger:
      config.LOG_LEVEL === 'silent'
        ? false
        : {
            level: config.LOG_LEVEL,
            // Request logs carry method, URL and status only; these never reach the log.
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
          },
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY === 'on',
    routerOptions: { maxParamLength: 1000 },
  });

  const housekeeping = setInterval(() => {
    deleteExpiredSessions(deps.db, deps.now());
    limits?.post.prune();
    limits?.signUp.prune();
    limits?.signInFailures.prune();
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();

  server.addHook('onClose', async () => {
    clearInterval(housekeeping);
    await deps.bus.close();
    database.close();
  });

  await server.register(cookie);
  await registerSecurity(server, config);

  const createContext = createContextFactory(deps);
  await server.register(fastifyTRPCPlugin<AppRouter>, {
    prefix: '/api/trpc',
    trpcOptions: {
      router: appRouter,
      createContext,
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') server.log.error({ err: error, path }, 'tRPC procedure failed');
      },
    },
  });
  await registerRestApi(server, createContext);

  server.get('/healthz', async (_req, reply) => {
    try {
      database.sqlite.prepare('select 1').get();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  await registerWebApp(server);

  return {
    server,
    deps,
    listen: () => server.listen({ port: config.PORT, host: config.HOST }),
    close: () => server.close(),
  };
}
