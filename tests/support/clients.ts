import { connect } from 'node:net';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import type { AppRouter } from '../../server/routers/app-router.ts';

/** A typed tRPC client over HTTP, authenticated with a bearer token when given. */
export function trpcClient(baseUrl: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${baseUrl}/api/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

export type TrpcClient = ReturnType<typeof trpcClient>;

export interface RestResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch + JSON for the REST API under /api. */
export async function rest<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RestResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}/api${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text so the assertion shows what came back.
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes as they are over a fresh TCP connection and reads the answer until the server closes
 * it: for requests no HTTP client would send (raw non-ASCII bytes in the path, say). Send
 * `Connection: close`, or a server that keeps the connection open holds this up until its timeout.
 */
export function rawRequest(baseUrl: string, request: Buffer): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

let counter = 0;
/** A username unique within this test run. */
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`;
}

/** Signs up a fresh user over REST and returns its name and token. */
export async function signUp(baseUrl: string, username = uniqueName(), password = 'correct horse battery') {
  const response = await rest<{ user: { username: string }; token: string }>(baseUrl, 'POST', '/auth/sign-up', {
    body: { username, password },
  });
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { username, password, token: response.body.token };
}

/**
 * A typed tRPC client whose subscriptions (and calls) go over one WebSocket, authenticated with
 * `connectionParams.token` like a TypeScript client, or with extra upgrade headers (cookie, Origin)
 * like a browser.
 */
export function wsTrpcClient(
  baseUrl: string,
  options: { token?: string; headers?: Record<string, string>; retryDelayMs?: number } = {},
) {
  const headers = options.headers ?? {};
  class HeaderWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const events = { opens: 0, closes: 0 };
  const wsClient = createWSClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/api/trpc`,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: options.token ? { token: options.token } : undefined,
    retryDelayMs: () => options.retryDelayMs ?? 50,
    onOpen: () => {
      events.opens += 1;
    },
    onClose: () => {
      events.closes += 1;
    },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  return { client, wsClient, events, close: () => wsClient.close() };
}
