/**
 * `atlas-chat/client` as Node resolves it (the `node` export condition): the same client, with the
 * `ws` package as the WebSocket when the runtime has none (Node 20; Node 22+ has a global one).
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { type AtlasClient, type AtlasClientOptions, createAtlasClient as createUniversal } from './index.ts';

export * from './index.ts';

const fallbackWebSocket = (globalThis.WebSocket ?? NodeWebSocket) as typeof globalThis.WebSocket;

export function createAtlasClient(options: AtlasClientOptions): AtlasClient {
  return createUniversal({ WebSocket: fallbackWebSocket, ...options });
}
