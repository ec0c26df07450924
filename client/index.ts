/**
 * `atlas-chat/client`: a typed tRPC client for an atlas-chat server, for programs outside this
 * repository. Queries and mutations go over HTTP (batched), subscriptions over one WebSocket that
 * opens on the first subscription, reconnects with backoff and resumes every subscription from the
 * last event it delivered. See docs/typescript-client.md.
 */
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  splitLink,
  type TRPCClient,
  wsLink,
} from '@trpc/client';

/** The server's cap on calls in one HTTP batch (MAX_BATCH_SIZE in server/http/trpc-http.ts). */
const MAX_BATCH_ITEMS = 10;

import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../server/routers/app-router.ts';

export type { AppRouter };
/** Every procedure's input, e.g. `RouterInputs['messages']['post']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output, e.g. `RouterOutputs['messages']['list']['messages'][number]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type AtlasClient = TRPCClient<AppRouter>;
export { isTRPCClientError, TRPCClientError } from '@trpc/client';

/** A session token, or a function asked for it before every request and every WebSocket connect. */
export type TokenSource = string | (() => string | null | undefined);

export interface AtlasClientOptions {
  /** The server's address, e.g. `http://localhost:3000` or `https://chat.example.com`. */
  url: string;
  /**
   * The token from `auth.signUp` / `auth.signIn`, sent as `Authorization: Bearer …` over HTTP and
   * as `connectionParams.token` when the WebSocket opens. Pass a function to sign in with the
   * client itself: it is read again on every request (the WebSocket reads it when it connects).
   */
  token?: TokenSource;
  /**
   * The WebSocket class. Browsers and Node 22+ have one; on Node 20 the `node` export condition
   * (what `import 'atlas-chat/client'` resolves to under Node) passes the `ws` package's.
   */
  WebSocket?: typeof globalThis.WebSocket;
  /** Called when the WebSocket drops (it reconnects by itself and resubscribes). */
  onDisconnect?: () => void;
}

function readToken(token: TokenSource | undefined): string | undefined {
  return (typeof token === 'function' ? token() : token) ?? undefined;
}

/**
 * Waits a moment before the first retry (a restart takes about a second and a retry that lands on
 * the closing process is wasted), then backs off to 10 s, with jitter so many clients do not knock
 * on a recovering server at once.
 */
function retryDelayMs(attempt: number): number {
  const base = Math.min(500 * 2 ** attempt, 10_000);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * The typed client: `client.messages.post.mutate({ room, text })`,
 * `client.rooms.events.subscribe({ room }, { onData })`. Its WebSocket is lazy: opened by the first
 * subscription, closed 2 s after the last one ends, so a program that has unsubscribed can exit.
 */
export function createAtlasClient(options: AtlasClientOptions): AtlasClient {
  const base = options.url.replace(/\/+$/, '');
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  if (WebSocketImpl === undefined) {
    throw new Error(
      'No WebSocket class: on Node 20 import atlas-chat/client from Node (it uses the ws package) or pass { WebSocket }',
    );
  }
  const wsClient = createWSClient({
    url: `${base.replace(/^http/, 'ws')}/api/trpc`,
    WebSocket: WebSocketImpl,
    connectionParams: () => {
      const token = readToken(options.token);
      return token ? { token } : {};
    },
    lazy: { enabled: true, closeMs: 2_000 },
    retryDelayMs,
    keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
    onClose: options.onDisconnect,
  });
  const headers = (): Record<string, string> => {
    const token = readToken(options.token);
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        // wsLink remembers the id of the last event each subscription delivered (the server tracks
        // every event) and resubscribes with it as lastEventId after a reconnect: no gap, no repeat.
        true: wsLink({ client: wsClient }),
        false: splitLink({
          // The server refuses auth.* inside a batch with other calls (docs/limits-lists.md): send
          // them alone; everything else is batched, at most 10 calls per request (its batch cap).
          condition: (op) => op.path.startsWith('auth.'),
          true: httpLink({ url: `${base}/api/trpc`, headers }),
          false: httpBatchLink({ url: `${base}/api/trpc`, headers, maxItems: MAX_BATCH_ITEMS }),
        }),
      }),
    ],
  });
}
