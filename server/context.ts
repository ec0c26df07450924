import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventBus } from './bus/event-bus.ts';
import type { Db } from './db/client.ts';
import type { RateLimits } from './lib/rate-limiter.ts';
import { hashSessionToken, SESSION_COOKIE } from './lib/session-token.ts';
import type { Presence } from './presence.ts';
import { findSessionUser, type SessionUser } from './store/sessions.ts';

/** Long-lived parts made once by createApp and shared by every request. */
export interface AppDeps {
  db: Db;
  bus: EventBus;
  presence: Presence;
  /** null when RATE_LIMITS=off. */
  limits: RateLimits | null;
  now: () => Date;
}

/** What a procedure may do to the HTTP exchange, whichever transport carried the call. */
export interface HttpExchange {
  ip: string;
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  setHeader(name: string, value: string): void;
}

export interface Context extends AppDeps {
  user: SessionUser | null;
  sessionId: number | null;
  http: HttpExchange;
}

/** For createCaller in tests and scripts: no HTTP around the call. */
export const noHttp: HttpExchange = {
  ip: '127.0.0.1',
  setSessionCookie() {},
  clearSessionCookie() {},
  setHeader() {},
};

/** The bearer token wins over the cookie: an API client's explicit choice beats a stray cookie. */
export function readSessionToken(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.toLowerCase().startsWith('bearer ')) return authorization.slice(7).trim() || undefined;
  return req.cookies[SESSION_COOKIE] || undefined;
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

export function createContextFactory(deps: AppDeps) {
  return ({ req, res }: { req: FastifyRequest; res: FastifyReply }): Context => ({
    ...deps,
    ...resolveSession(deps, readSessionToken(req)),
    http: fastifyHttp(req, res),
  });
}
