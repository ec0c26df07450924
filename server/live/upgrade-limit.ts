import type { FastifyInstance } from 'fastify';
import { sendError } from '../http/errors.ts';
import type { ConnectionRegistry } from './connections.ts';

/**
 * Counts every WebSocket upgrade against its client IP (Fastify's req.ip, which honours
 * TRUST_PROXY) before any work is spent on it, and refuses it with 429 past the per-IP cap.
 * Registered after the security hooks, so a refused cross-site upgrade is not counted.
 */
export function registerUpgradeLimit(server: FastifyInstance, connections: ConnectionRegistry): void {
  server.addHook('onRequest', async (req, reply) => {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return;
    const refusal = connections.admitUpgrade(req.ip, req.raw.socket);
    if (refusal) return sendError(req, reply, 429, refusal);
  });
}
