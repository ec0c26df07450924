import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { Config } from '../config.ts';
import { clientKey } from '../lib/client-key.ts';
import { parseAuthorization } from '../lib/session-token.ts';
import { sendError } from './errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** One year, the usual HSTS lifetime; sent only over https, where browsers heed it. */
export const HSTS = 'max-age=31536000; includeSubDomains';

export const isUpgrade = (req: FastifyRequest) => req.headers.upgrade?.toLowerCase() === 'websocket';

export function isSameSiteOrigin(origin: string, req: FastifyRequest, allowed: readonly string[]): boolean {
  return origin === `${req.protocol}://${req.host}` || allowed.includes(origin);
}

/** Swagger UI's page and assets: public and static, so they may be cached. */
const isDocsAsset = (url: string) => url === '/api/docs' || url.startsWith('/api/docs/');

/**
 * Security headers, a coarse per-IP request ceiling, and refusal of cross-site state-changing
 * requests that would ride on the session cookie (CSRF). Calls with a well-formed Bearer token are
 * exempt: a browser never attaches that header on its own, so they cannot be forged cross-site.
 */
/** `rateLimitStore`: where the coarse per-IP ceiling is counted (default: this process's memory). */
export async function registerSecurity(
  server: FastifyInstance,
  config: Config,
  rateLimitStore?: FastifyRateLimitStoreCtor,
): Promise<void> {
  // helmet itself, configured once. @fastify/helmet called helmet(options) again on every request,
  // re-parsing the CSP directives each time: 6% of the server's CPU per API call in the bench's
  // profile (decision 011). The headers are the same.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Swagger UI sets inline styles; scripts stay strictly same-origin.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Self-hosted over plain HTTP on a LAN is a supported setup: HSTS is sent below, over https only.
    strictTransportSecurity: false,
  });
  server.addHook('onRequest', (req, reply, done) => {
    securityHeaders(req.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined));
  });

  // Any plain HTTP answer to a WebSocket upgrade (403 below, 429 from the rate limiter, 404) is
  // written straight to the socket, outside Node's keep-alive handling: close the socket once it is
  // sent, or it lingers and holds up a graceful shutdown. A successful upgrade never finishes this
  // response (ws writes its 101 itself). Registered first so it runs before any hook that refuses.
  server.addHook('onRequest', async (req, reply) => {
    if (!isUpgrade(req)) return;
    reply.header('connection', 'close');
    reply.raw.once('finish', () => req.raw.socket.destroy());
  });

  server.addHook('onRequest', async (req, reply) => {
    if (req.protocol === 'https') reply.header('strict-transport-security', HSTS);
    // API answers carry tokens and private data: no browser or proxy may keep a copy.
    if (req.url.startsWith('/api') && !isDocsAsset(req.url)) reply.header('cache-control', 'no-store');
  });

  if (config.RATE_LIMITS === 'on') {
    await server.register(rateLimit, {
      max: 1200,
      timeWindow: '1 minute',
      keyGenerator: (req) => clientKey(req.ip),
      // Health checks come from the orchestrator, not from users.
      allowList: (req) => req.url === '/healthz',
      // Shared mode: one count for every instance; while Redis is away the ceiling is lifted.
      ...(rateLimitStore ? { store: rateLimitStore, skipOnError: true } : {}),
    });
  }

  server.addHook('onRequest', async (req, reply) => {
    // A WebSocket upgrade is a GET but carries the cookie into a long-lived, state-changing channel.
    const upgrade = isUpgrade(req);
    if (SAFE_METHODS.has(req.method) && !upgrade) return;
    if (!upgrade && parseAuthorization(req.headers.authorization).kind === 'bearer') return;
    const origin = req.headers.origin;
    if (origin === undefined) {
      // Browsers send Origin on these requests; should one not, its Fetch Metadata still tells a
      // page on another site (or a sibling subdomain) from a command-line client, which sends neither.
      const site = req.headers['sec-fetch-site'];
      if (site !== 'cross-site' && site !== 'same-site') return;
      return sendError(req, reply, 403, `Cross-site request (Sec-Fetch-Site: ${site}) refused`);
    }
    if (isSameSiteOrigin(origin, req, config.ALLOWED_ORIGINS)) return;
    return sendError(
      req,
      reply,
      403,
      `Cross-site request from ${origin} refused; add it to ALLOWED_ORIGINS if it is yours`,
    );
  });
}
