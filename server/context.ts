import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
// Brings @fastify/cookie's request/reply typings (req.cookies, reply.setCookie) into every program
// that type-checks this file, such as a client importing AppRouter, not only into server/app.ts.
import type {} from '@fastify/cookie';
import { TRPCError } from '@trpc/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { EventBus } from './bus/event-bus.ts';
import type { ClientInfo, UpgradeClients } from './http/client-info.ts';
import { clientInfo } from './http/client-info.ts';
import type { PasswordGate } from './lib/password-gate.ts';
import type { RateLimits } from './lib/rate-limiter.ts';
import { hashSessionToken, parseAuthorization, sessionCookieName } from './lib/session-token.ts';
import type { ConnectionRegistry } from './live/connections.ts';
import type { LiveConnection } from './live/live-connection.ts';
import type { Presence } from './live/presence.ts';
import type { RoomBroadcaster } from './live/room-broadcaster.ts';
import type { Typing } from './live/typing.ts';
import type { Metrics, Transport } from './metrics/metrics.ts';
import { StoreUnavailableError } from './store/errors.ts';
import type { GroupCommitWriter } from './store/group-commit.ts';
import type { SessionUser, Store } from './store/store.ts';

/** Long-lived parts made once by createApp and shared by every request. */
export interface AppDeps {
  /** SQLite or PostgreSQL, behind one async interface (decision 017). */
  store: Store;
  bus: EventBus;
  presence: Presence;
  typing: Typing;
  /** Group-commits posts; the only path that inserts messages. */
  messageWriter: GroupCommitWriter;
  broadcaster: RoomBroadcaster;
  /** Open WebSockets and SSE streams: their caps, and by session, so revoking a session closes them. */
  connections: ConnectionRegistry;
  /** null when RATE_LIMITS=off. */
  limits: RateLimits | null;
  /** Admission for argon2id work: bounded concurrency, queue and share per client IP. */
  passwordGate: PasswordGate;
  /** MAX_ROOMS: creating a room beyond this many is refused, whatever RATE_LIMITS says. */
  maxRooms: number;
  /** A no-op when METRICS=off. */
  metrics: Metrics;
  now: () => Date;
}

/** What a procedure may do to the HTTP exchange, whichever transport carried the call. */
export interface HttpExchange {
  /** The client IP, per TRUST_PROXY; the same for HTTP and WebSocket calls. */
  ip: string;
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  setHeader(name: string, value: string): void;
}

export interface Context extends AppDeps {
  user: SessionUser | null;
  sessionId: number | null;
  http: HttpExchange;
  /** The WebSocket a call arrived on (its limits, flow control, direct delivery); null over HTTP. */
  connection: LiveConnection | null;
  /** For the per-transport call counts. */
  transport: Transport;
}

/** How long a WebSocket whose session cannot be looked up (database unreachable) stays open. */
const UNAVAILABLE_CLOSE_DELAY_MS = 250;

/** Frames kept while a WebSocket's session is looked up; tRPC's own limits bound the rest. */
const MAX_EARLY_FRAMES = 64;

/** For createCaller in tests and scripts: no HTTP around the call. */
export const noHttp: HttpExchange = {
  ip: '127.0.0.1',
  setSessionCookie() {},
  clearSessionCookie() {},
  setHeader() {},
};

/**
 * The session token a request carries. A Bearer header wins over the cookie: an API client's
 * explicit choice beats a stray browser cookie. A malformed Authorization header is the only
 * credential, so it authenticates nobody: falling back to the cookie would let a request that
 * skipped the CSRF check as "bearer" ride on the cookie. Over https only the __Host- cookie counts.
 */
function requestToken(
  authorization: string | undefined,
  cookies: () => Record<string, string | undefined>,
  client: ClientInfo,
): string | undefined {
  const parsed = parseAuthorization(authorization);
  if (parsed.kind === 'bearer') return parsed.token;
  if (parsed.kind === 'invalid') return undefined;
  return cookies()[sessionCookieName(client.secure)] || undefined;
}

export async function resolveSession(
  deps: AppDeps,
  token: string | undefined,
): Promise<{ user: SessionUser | null; sessionId: number | null }> {
  if (!token) return { user: null, sessionId: null };
  let found: Awaited<ReturnType<Store['sessions']['findUser']>>;
  try {
    found = await deps.store.sessions.findUser(hashSessionToken(token), deps.now());
  } catch (error) {
    // Made before any procedure runs, so the procedures' 503 mapping (server/trpc.ts) cannot see it.
    if (error instanceof StoreUnavailableError) {
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: error.message, cause: error });
    }
    throw error;
  }
  return found ? { user: found.user, sessionId: found.sessionId } : { user: null, sessionId: null };
}

function fastifyHttp(client: ClientInfo, reply: FastifyReply): HttpExchange {
  // No Domain attribute: the cookie stays with this host (which __Host- requires over https).
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax', secure: client.secure } as const;
  const name = sessionCookieName(client.secure);
  return {
    ip: client.ip,
    setSessionCookie(token, expiresAt) {
      reply.setCookie(name, token, { ...cookieOptions, expires: expiresAt });
    },
    clearSessionCookie() {
      reply.clearCookie(name, cookieOptions);
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
 * One context factory for tRPC over HTTP, tRPC over WebSocket and REST. On a WebSocket,
 * `connectionParams.token`, when sent, is the only credential, like a Bearer header.
 */
export function createContextFactory(
  deps: AppDeps,
  parseCookie: (header: string) => Record<string, string | undefined>,
  upgrades: UpgradeClients,
) {
  return async (opts: HttpContextOptions | WsContextOptions): Promise<Context> => {
    if (isWebSocketOptions(opts)) {
      const { req, res: socket } = opts;
      const client = upgrades.of(req);
      const params = opts.info.connectionParams;
      const token =
        params && 'token' in params
          ? params.token || undefined
          : requestToken(req.headers.authorization, () => parseCookie(req.headers.cookie ?? ''), client);
      // The session lookup awaits the database, and tRPC may handle frames meanwhile (a start and
      // its stop in the same read as the connection's first message): keep them for the
      // connection's frame checks, which would otherwise miss them (early stops, flood budget).
      const early: Buffer[] = [];
      const tap = (data: Buffer) => {
        if (early.length < MAX_EARLY_FRAMES) early.push(data);
      };
      socket.prependListener('message', tap);
      let session: Awaited<ReturnType<typeof resolveSession>>;
      try {
        session = await resolveSession(deps, token);
      } catch (error) {
        // The database is unreachable. tRPC answers each call waiting on this context with this
        // error (503), then closes the socket at once; calls the client sends just after opening
        // would meet a closed socket instead of a clear answer. Give them a moment to arrive.
        if (error instanceof TRPCError && error.code === 'SERVICE_UNAVAILABLE') await sleep(UNAVAILABLE_CLOSE_DELAY_MS);
        throw error;
      } finally {
        socket.off('message', tap);
      }
      // Throws past the per-user cap: tRPC then answers with that error and closes the socket.
      const connection = deps.connections.open({
        socket,
        userId: session.user?.id ?? null,
        sessionId: session.sessionId,
        ip: client.ip,
      });
      connection.seeEarlyFrames(early);
      return { ...deps, ...session, http: { ...noHttp, ip: client.ip }, connection, transport: 'trpc-ws' };
    }
    const { req, res } = opts;
    const client = clientInfo(req);
    const token = requestToken(req.headers.authorization, () => req.cookies, client);
    // One factory serves both HTTP adapters: tRPC's under /api/trpc, trpc-to-openapi's REST elsewhere.
    const transport = req.url.startsWith('/api/trpc') ? 'trpc-http' : 'rest';
    return {
      ...deps,
      ...(await resolveSession(deps, token)),
      http: fastifyHttp(client, res),
      connection: null,
      transport,
    };
  };
}
