import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { sendError } from '../http/errors.ts';
import { appRouter } from '../routers/app-router.ts';
import type { Metrics } from './metrics.ts';
import { getProcessRegistry } from './process-metrics.ts';
import { NO_ROUTE, restRouteLabeler } from './route-label.ts';

export const METRICS_PATH = '/metrics';
const REST_CATCH_ALL = '/api/*';

const digest = (value: string) => createHash('sha256').update(value).digest();

const TRPC_PREFIX = '/api/trpc/';
/** tRPC's own route template: every tRPC call over HTTP is labelled with it. */
const TRPC_ROUTE = '/api/trpc/:path';
/** Compares in constant time: hashing first gives both sides the same length. */
function tokenMatches(authorization: string | undefined, token: string): boolean {
  if (!authorization?.toLowerCase().startsWith('bearer ')) return false;
  return timingSafeEqual(digest(authorization.slice(7).trim()), digest(token));
}

/**
 * The request-duration hook and GET /metrics. Call before any route is registered, so the hook
 * sees every route. With METRICS=off there is no hook, and /metrics answers 404 (not the web app).
 */
export function registerMetrics(server: FastifyInstance, config: Config, metrics: Metrics): void {
  const registry = metrics.registry;
  if (!registry) {
    server.get(METRICS_PATH, { config: { rateLimit: false } }, (req, reply) =>
      sendError(req, reply, 404, 'Metrics are off (METRICS=off)'),
    );
    return;
  }

  // Made now, not at the first scrape: the event-loop monitor then covers the time since start.
  const processRegistry = getProcessRegistry();
  const restRoute = restRouteLabeler(appRouter, '/api');
  server.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    // A scrape must not show up in what it scrapes. (Long-lived exchanges never get here: an accepted
    // WebSocket's reply is hijacked, and an event stream ends when the client leaves, which Fastify
    // does not report as a response. Both count as subscriptions and connections instead.)
    if (route === METRICS_PATH) return done();
    const label =
      route === undefined
        ? NO_ROUTE
        : route === REST_CATCH_ALL
          ? restRoute(req.method, req.url)
          : // The single-call routes (http/trpc-single-call.ts) are tRPC's route, served faster.
            route.startsWith(TRPC_PREFIX)
            ? TRPC_ROUTE
            : route;
    metrics.httpRequest(req.method, label, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  server.get(
    METRICS_PATH,
    // Scrapes come from the monitoring system, not from users: no per-IP request ceiling.
    { config: { rateLimit: false } },
    async (req, reply) => {
      if (config.METRICS_TOKEN !== undefined && !tokenMatches(req.headers.authorization, config.METRICS_TOKEN)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return sendError(req, reply, 401, 'Send "Authorization: Bearer <METRICS_TOKEN>" to read metrics');
      }
      const merged = Registry.merge([processRegistry, registry]);
      reply.header('cache-control', 'no-store').type(merged.contentType);
      return merged.metrics();
    },
  );
}
