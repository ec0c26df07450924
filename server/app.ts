import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import type { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { MAX_BATCH_SIZE, ROOM_NAME_PATTERN } from '../shared/rules.ts';
import { type EventBus, InProcessEventBus } from './bus/event-bus.ts';
import { RedisEventBus } from './bus/redis-event-bus.ts';
import type { RoomFeed } from './bus/room-sequencer.ts';
import type { Config } from './config.ts';
import { type AppDeps, createContextFactory } from './context.ts';
import { clientErrorOptions } from './http/client-errors.ts';
import { UpgradeClients } from './http/client-info.ts';
import { sendError } from './http/errors.ts';
import { registerJsonBody } from './http/json-body.ts';
import { registerRestApi } from './http/openapi.ts';
import { redisRateLimitStore } from './http/redis-rate-limit-store.ts';
import { isUpgrade, registerSecurity } from './http/security.ts';
import { MAX_TRPC_PATH_LENGTH, registerTrpcHttpGuards } from './http/trpc-http.ts';
import { registerSingleCallRoutes, SINGLE_CALL_PATHS } from './http/trpc-single-call.ts';
import { registerWebApp } from './http/web.ts';
import { PasswordGate } from './lib/password-gate.ts';
import { createRateLimits, memoryStore, redisStore } from './lib/rate-limiter.ts';
import { fastifyTrustProxy } from './lib/trust-proxy.ts';
import { refuseInBatch } from './live/call-guard.ts';
import { ConnectionRegistry } from './live/connections.ts';
import { liveSettings } from './live/live-settings.ts';
import { PresenceTracker } from './live/presence.ts';
import { RoomBroadcaster } from './live/room-broadcaster.ts';
import { SharedPresence } from './live/shared-presence.ts';
import { SharedTyping } from './live/shared-typing.ts';
import { handleSocketError, isClientSocketError } from './live/socket-errors.ts';
import { createWireEncoder } from './live/trpc-wire.ts';
import { TypingTracker } from './live/typing.ts';
import { registerUpgradeLimit } from './live/upgrade-limit.ts';
import { createMetrics, disabledMetrics } from './metrics/metrics.ts';
import { registerMetrics } from './metrics/metrics-route.ts';
import { type AppRouter, appRouter } from './routers/app-router.ts';
import { createStore } from './store/create-store.ts';
import { GroupCommitWriter } from './store/group-commit.ts';
import type { RoomRow, Store } from './store/store.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;
/** Incoming WebSocket frames above this close the connection (ws answers with code 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** tRPC keep-alive: a PING after this much silence; no PONG within PONG_WAIT_MS drops the client. */
const PING_MS = 20_000;
const PONG_WAIT_MS = 10_000;
const CLOSE_GRACE_MS = 2000;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000;

export interface App {
  server: FastifyInstance;
  deps: AppDeps;
  /** Starts listening; resolves to the address actually bound (PORT=0 picks a free port). */
  listen(): Promise<string>;
  /** One housekeeping run now (the timer runs it every 10 minutes); false when another instance holds the lock. */
  housekeep(): Promise<boolean>;
  close(): Promise<void>;
}

/** The HTTP server's options; the benchmark's baseline server uses the same ones. */
export function fastifyOptions(config: Config): FastifyServerOptions {
  return {
    logger:
      config.LOG_LEVEL === 'silent'
        ? false
        : {
            level: config.LOG_LEVEL,
            // Request logs carry method, URL and status only; these never reach the log.
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
          },
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: fastifyTrustProxy(config.TRUST_PROXY),
    routerOptions: { maxParamLength: MAX_TRPC_PATH_LENGTH },
    ...clientErrorOptions,
  };
}

/**
 * The database as the Redis bus reads it to fill gaps; rooms are never deleted, so their rows are
 * cached. Channels that are not rooms (a user's notices, userChannel) have no changes: they cost
 * no query.
 */
function roomFeed(store: Store): RoomFeed {
  const rows = new Map<string, RoomRow>();
  const find = async (name: string) => {
    if (!ROOM_NAME_PATTERN.test(name)) return undefined;
    let row = rows.get(name);
    if (!row) {
      row = await store.rooms.find(name);
      if (row) rows.set(name, row);
    }
    return row;
  };
  return {
    head: async (name) => {
      const row = await find(name);
      return row ? store.rooms.lastChange(row.id) : 0;
    },
    heads: (names) => store.rooms.lastChanges(names.filter((name) => ROOM_NAME_PATTERN.test(name))),
    after: async (name, after, limit) => {
      const row = await find(name);
      return row ? store.messages.changes(row, after, limit) : { changes: [], hasMore: false };
    },
  };
}

/** Shared mode (REDIS_URL) carries live events over Redis; otherwise they stay in this process. */
async function createBus(config: Config, store: Store, server: FastifyInstance): Promise<EventBus> {
  if (config.REDIS_URL === undefined) return new InProcessEventBus();
  const bus = new RedisEventBus({
    url: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    feed: roomFeed(store),
    log: server.log,
  });
  // Not fatal: while Redis is away the instance serves from the database and keeps retrying.
  await bus.connect();
  return bus;
}

/** Builds the whole server: database, event bus, timers and HTTP routes. Nothing runs at import. */
export async function createApp(config: Config): Promise<App> {
  // Made first (it has no side effects) so the store's callbacks can log through it.
  const server = Fastify(fastifyOptions(config));
  const store = await createStore(config, {
    onConnectionError: (error) => server.log.warn({ err: error }, 'an idle PostgreSQL connection failed'),
    onRetry: (sqlState, attempt) => server.log.warn({ sqlState, attempt }, 'a post batch was retried'),
  });
  server.log.info({ database: store.description }, 'database ready');
  const bus = await createBus(config, store, server);
  // Shared mode counts every limit in Redis, so a budget spent on one instance is spent on all.
  const shared = bus instanceof RedisEventBus ? bus : null;
  const limitStore = shared ? redisStore(shared.commands, config.REDIS_PREFIX) : memoryStore;
  const limits = config.RATE_LIMITS === 'on' ? createRateLimits(limitStore) : null;
  const metrics = config.METRICS === 'on' ? createMetrics() : disabledMetrics;
  const deps: AppDeps = {
    store,
    bus,
    // Shared mode keeps presence and typing in Redis, so every instance shows the same.
    presence: shared ? new SharedPresence(shared, shared.commands) : new PresenceTracker(bus),
    typing: shared ? new SharedTyping(shared, shared.commands) : new TypingTracker(bus),
    // Logs through `server`, made below; a listener can only throw once requests flow.
    messageWriter: new GroupCommitWriter(store.messages, bus, {
      onPublishError: (error) => server.log.error({ err: error }, 'a live listener failed on a new message'),
      onBatch: (size, milliseconds) => metrics.groupCommit(size, milliseconds / 1000),
      onInserted: () => metrics.messagesPosted(1),
    }),
    broadcaster: new RoomBroadcaster(bus, metrics),
    connections: new ConnectionRegistry(liveSettings(config)),
    limits,
    passwordGate: new PasswordGate({
      concurrency: config.PASSWORD_HASH_CONCURRENCY,
      queue: config.PASSWORD_HASH_QUEUE,
      // Like every per-IP limit, lifted by RATE_LIMITS=off; the overall bound stays.
      perClient: limits ? config.PASSWORD_CHECKS_PER_IP : null,
    }),
    maxRooms: config.MAX_ROOMS,
    metrics,
    now: () => new Date(),
  };

  server.setErrorHandler((error: { statusCode?: number; message: string }, req, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    return sendError(req, reply, status, status >= 500 ? 'Internal server error' : error.message);
  });
  registerJsonBody(server);
  // First, so its response hook times every route registered below.
  registerMetrics(server, config, metrics);

  if (shared) {
    deps.connections.shareSessionClosures((sessionIds) => shared.publishControl({ endedSessions: sessionIds }));
    shared.onControl((message) => {
      const ended =
        typeof message === 'object' && message !== null && 'endedSessions' in message ? message.endedSessions : null;
      if (Array.isArray(ended)) {
        deps.connections.closeLocalSessions(ended.filter((id): id is number => Number.isInteger(id)));
      }
    });
  }

  /** Deletes expired sessions and ends their channels; in shared mode on one instance per period. */
  const housekeep = async (): Promise<boolean> => {
    // The lock outlives the run and most of the period, so the next instance's timer finds it taken.
    if (shared && !(await shared.tryLock('housekeeping', HOUSEKEEPING_INTERVAL_MS * 0.9))) return false;
    // Rate-limit windows expire by themselves (rate-limiter-flexible drops them).
    const ended = await store.sessions.deleteExpired(deps.now());
    // In shared mode this also ends their channels on the other instances.
    deps.connections.closeSessions(ended);
    return true;
  };
  const housekeeping = setInterval(() => {
    housekeep().catch((error: unknown) =>
      server.log.warn({ err: error }, 'could not delete expired sessions; trying again later'),
    );
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();

  server.addHook('onClose', async () => {
    clearInterval(housekeeping);
    await deps.typing.close();
    // Before the bus closes: in shared mode this removes our presence entries and tells the others.
    await deps.presence.close();
    await deps.bus.close();
    await store.close();
  });

  await server.register(cookie);
  const upgrades = new UpgradeClients();
  server.addHook('onRequest', async (req) => {
    if (isUpgrade(req)) upgrades.remember(req);
  });
  await registerSecurity(
    server,
    config,
    shared ? redisRateLimitStore(shared.commands, config.REDIS_PREFIX) : undefined,
  );
  registerTrpcHttpGuards(server);
  registerUpgradeLimit(server, deps.connections);
  await server.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    errorHandler: handleSocketError,
    // Tell every tRPC client to reconnect (it retries with backoff until the server is back),
    // then close: a restart loses no one, and resubscribing resumes from lastEventId.
    preClose(done) {
      // From now on an upgrade attempt (a browser told to reconnect retries at once) is cut off at
      // the socket. Answering it through Fastify would leave the socket open outside Node's
      // keep-alive handling, and server.close() would wait for it forever.
      server.server.removeAllListeners('upgrade');
      server.server.on('upgrade', (_req, socket) => socket.destroy());
      const wss = server.websocketServer;
      // The callback runs once every client is gone.
      wss.close(() => done());
      const reconnect = JSON.stringify({ id: null, method: 'reconnect' });
      for (const client of wss.clients) {
        if (client.readyState === client.OPEN) client.send(reconnect);
        client.close(1012, 'server restarting');
      }
      // A client that never answers the close handshake must not hold the shutdown hostage.
      setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS).unref();
    },
  });

  metrics.countWebSocketsWith(() => server.websocketServer.clients.size);

  const createContext = createContextFactory(deps, (header) => server.parseCookie(header), upgrades);
  const onTrpcError = ({ error, path }: { error: TRPCError; path?: string | undefined }) => {
    // tRPC also reports every socket error; handleSocketError has logged those already.
    if (error.code !== 'INTERNAL_SERVER_ERROR' || isClientSocketError(error.cause)) return;
    server.log.error({ err: error, path }, 'tRPC procedure failed');
  };
  // Before tRPC's plugin: these static routes take the lone calls of hot mutations off its adapter.
  await registerSingleCallRoutes(server, '/api/trpc', SINGLE_CALL_PATHS, {
    router: appRouter,
    createContext,
    // Checked first, with a clearer message, by registerTrpcHttpGuards; this is the backstop.
    maxBatchSize: MAX_BATCH_SIZE,
    onError: onTrpcError,
  });
  await server.register(fastifyTRPCPlugin<AppRouter>, {
    prefix: '/api/trpc',
    useWSS: true,
    trpcOptions: {
      router: appRouter,
      createContext,
      keepAlive: { enabled: true, pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS },
      // Checked first, with a clearer message, by registerTrpcHttpGuards; this is the backstop.
      maxBatchSize: MAX_BATCH_SIZE,
      experimental_encoder: createWireEncoder({ refuseInBatch }),
      onError: onTrpcError,
    },
  });
  await registerRestApi(server, createContext);

  server.get('/healthz', async (_req, reply) => {
    try {
      await store.ping();
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
    housekeep,
    close: () => server.close(),
  };
}
