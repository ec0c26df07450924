import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** Who sent a request, as Fastify resolved it under TRUST_PROXY. */
export interface ClientInfo {
  ip: string;
  /** Over https, directly or per a trusted X-Forwarded-Proto. */
  secure: boolean;
}

export function clientInfo(req: FastifyRequest): ClientInfo {
  return { ip: req.ip, secure: req.protocol === 'https' };
}

/**
 * tRPC's WebSocket handler only sees the raw upgrade request, not Fastify's. The upgrade passes
 * through Fastify's onRequest hooks first, where remember() stores what Fastify resolved, so a
 * WebSocket gets the same client IP as HTTP (not the proxy's socket address) and the same https flag.
 */
export class UpgradeClients {
  private readonly byRequest = new WeakMap<IncomingMessage, ClientInfo>();

  remember(req: FastifyRequest): void {
    this.byRequest.set(req.raw, clientInfo(req));
  }

  /** What remember() stored; else the socket's own address (only if an upgrade skipped the hook). */
  of(raw: IncomingMessage): ClientInfo {
    return (
      this.byRequest.get(raw) ?? {
        ip: raw.socket.remoteAddress ?? 'unknown',
        secure: 'encrypted' in raw.socket && raw.socket.encrypted === true,
      }
    );
  }
}
