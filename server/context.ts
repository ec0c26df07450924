import type { IncomingMessage } from 'node:http';
// Brings @fastify/cookie's request/reply typings (req.cookies, reply.setCookie) into every program
// that type-checks this file, such as a client importing AppRouter, not only into server/app.ts.
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { EventBus } from './bus/event-bus.ts';
import type { Db } from './db/client.ts';
import type { RateLimits } from './lib/rate-limiter.ts';
import { hashSessionToken, SESSION_COOKIE } from './lib/session-token.ts';
import type { ConnectionRegistry } from './live/connections.ts';
import type { PresenceTracker } from './live/presence.ts';
import type { RoomBroadcaster } from './live/room-broadcaster.ts';
import type { TypingTracker } from './live/typing.ts';
import type { Metrics, Transport } from './metrics/metrics.ts';
import type { MessageWriter } from './store/message-writer.ts';
import { findSessionUser, type SessionUser } from './store/sessions.ts';

/** Long-lived parts made once by createApp and shared by every request. */
export interface AppDeps {
  db: Db;
  bus: EventBus;
  presence: PresenceTracker;
  typing: TypingTracker;
  /** Group-commits posts; the only path that inserts messages. */
  messageWriter: MessageWriter;
  broadcaster: RoomBroadcaster;
  /** Open WebSockets by session, so revoking a session closes its sockets. */
  connections: ConnectionRegistry;
  /** null when RATE_LIMITS=off. */
  limits: RateLimits | null;
  /** A no-op when METRICS=off. */
  metrics: Metrics;
  now: () => Date;
}

/** What a procedure may do to the HTTP exchange, whichever transport carried the call. */
export interface HttpExchange {
  ip: string;
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  setHeader(name: string, value: string): void;
}

/** The WebSocket a call arrived on, for flow control and direct delivery; null over HTTP. */
export interface LiveConnection {
  socket: WebSocket;
}

export interface Context extends AppDeps {
  user: SessionUser | null;
  sessionId: number | null;
  http: HttpExchange;
  connection: LiveConnection | null;
  /** For the per-transport call counts. */
  transport: Transport;
}

/** For createCaller in tests and scripts: no HTTP around the call. */
export const noHttp: HttpExchange = {
  ip: '127.0.0.1',
  setSessionCookie() {},
  clearSessionCookie() {},
  setHeader() {},
};

function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization?.toLowerCase().startsWith('bearer ')) return undefined;
  return authorization.slice(7).trim() || undefined;
}

export function resolveSession(deps: AppDeps, token: string | undefined) {
  if (!token) return { user: null, sessionId: null };
  const found = findSessionUser(deps.db, hashSessionToken(token), deps.now());
  return found ? { user: found.user, sessionId: found.sessionId } : { user: null, sessionId: null };
}

function fastifyHttp(req: FastifyRequest, reply: FastifyReply): HttpExchange {
  const cookieOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: req.protocol === 'https',
  } as const;
  return {
    ip: req.ip,
    setSessionCookie(token, expiresAt) {
      reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions, expires: expiresAt });
    },
    clearSessionCookie() {
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
    },
    setHeader(name, value) {
      reply.header(name, value);
    },
  };
}

type HttpContextOptions = { req: FastifyRequest; res: FastifyReply };
type WsContextOptions = {
  req: IncomingMessage;
  res: WebSocket;
  info: { connectionParams: Record<string, string> | null };
};

function isWebSocketOptions(opts: HttpContextOptions | WsContextOptions): opts is WsContextOptions {
  return !('raw' in opts.req);
}

/**
 * One context factory for tRPC over HTTP, tRPC over WebSocket and REST. The bearer token (header,
 * or `connectionParams.token` on a WebSocket) wins over the cookie: an API client's explicit choice
 * beats a stray browser cookie.
 */
export function createContextFactory(
  deps: AppDeps,
  parseCookie: (header: string) => Record<string, string | undefined>,
) {
  return (opts: HttpContextOptions | WsContextOptions): Context => {
    if (isWebSocketOptions(opts)) {
      const { req, res: socket } = opts;
      const cookieHeader = req.headers.cookie;
      const token =
        opts.info.connectionParams?.token ||
        bearerToken(req.headers.authorization) ||
        (cookieHeader ? parseCookie(cookieHeader)[SESSION_COOKIE] : undefined);
      const session = resolveSession(deps, token);
      const ip = req.socket.remoteAddress ?? 'unknown';
      deps.connections.add({ socket, userId: session.user?.id ?? null, sessionId: session.sessionId, ip });
      return { ...deps, ...session, http: { ...noHttp, ip }, connection: { socket }, transport: 'trpc-ws' };
    }
    const { req, res } = opts;
    const token = bearerToken(req.headers.authorization) || req.cookies[SESSION_COOKIE] || undefined;
    // One factory serves both HTTP adapters: tRPC's under /api/trpc, trpc-to-openapi's REST elsewhere.
    const transport = req.url.startsWith('/api/trpc') ? 'trpc-http' : 'rest';
    return { ...deps, ...resolveSession(deps, token), http: fastifyHttp(req, res), connection: null, transport };
  };
}
