import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, wsLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { MAX_BATCH_SIZE } from '../../../shared/rules.ts';
import type { AppRouter } from './api-types.ts';
import { sessionExpired } from './auth-events.ts';
import { describeApiError, isUnauthorized } from './errors.ts';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

function webSocketUrl(): string {
  const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${window.location.host}/api/trpc`;
}

/**
 * Wait a moment before the first retry: the usual reason for a drop is a server restart, which
 * takes a second or so, and a retry that lands on the closing process is wasted (or, worse, held
 * open by it). Then back off to 10 s, with jitter so a room full of tabs does not knock on a
 * recovering server all at once.
 */
function retryDelayMs(attempt: number): number {
  const base = Math.min(500 * 2 ** attempt, 10_000);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * One WebSocket per tab carries every subscription. It opens lazily, on the first subscription,
 * because the server reads the session cookie once, when the socket opens: opening it on the join
 * page would leave it anonymous after signing in. See also `resetLiveConnection`.
 */
export const wsClient = createWSClient({
  url: webSocketUrl,
  lazy: { enabled: true, closeMs: 2_000 },
  retryDelayMs,
  keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
});

/** After signing in or out: drop the socket so the next subscription opens one with the new cookie. */
export function resetLiveConnection(): void {
  void wsClient.close();
}

const httpOptions = {
  url: '/api/trpc',
  fetch: (url: URL | RequestInfo, options?: RequestInit) => fetch(url, { ...options, credentials: 'include' }),
};

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink({ client: wsClient }),
      false: splitLink({
        // The server refuses auth.* calls inside a batch with others: they go on their own.
        condition: (op) => op.path.startsWith('auth.'),
        true: httpLink(httpOptions),
        // Batches of more than MAX_BATCH_SIZE calls are refused: maxItems splits bigger ones.
        false: httpBatchLink({ ...httpOptions, maxItems: MAX_BATCH_SIZE }),
      }),
    }),
  ],
});

function onApiError(error: unknown): void {
  if (isUnauthorized(error)) sessionExpired.emit();
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: onApiError }),
    mutationCache: new MutationCache({ onError: onApiError }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        // A 4xx will not change on retry; a dropped connection might.
        retry: (failureCount, error) => failureCount < 2 && describeApiError(error).code === null,
        refetchOnWindowFocus: false,
      },
    },
  });
}
