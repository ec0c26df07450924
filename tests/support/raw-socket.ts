import { WebSocket } from 'ws';

/** A tRPC frame as the server sends it (what a test looks at). */
export interface RawFrame {
  id?: number | string | null;
  jsonrpc?: string;
  method?: string;
  result?: { type: 'started' | 'stopped' | 'data'; id?: string; data?: unknown };
  error?: { message: string; code: number; data?: { code?: string; httpStatus?: number } };
}

export interface RawSocket {
  socket: WebSocket;
  /** Every text frame received, as sent (PING/PONG excluded), in order. */
  raw: string[];
  frames(): RawFrame[];
  /** Frames answering request `id`. */
  framesFor(id: number | string): RawFrame[];
  send(message: unknown): void;
  sendText(text: string): void;
  /** Set once the socket closed. */
  closed: { code: number; reason: string } | null;
  /** Resolves when `check` holds (polling); rejects after `timeoutMs` with what was received. */
  until(check: (socket: RawSocket) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops reading from the TCP socket: what the server sends piles up in kernel and server buffers. */
  pause(): void;
  resume(): void;
  close(): void;
}

const wsUrl = (baseUrl: string) => `${baseUrl.replace(/^http/, 'ws')}/api/trpc`;

/**
 * A tRPC WebSocket without tRPC's client: every frame is visible, nothing is retried or batched.
 * With a token it authenticates like wsLink (`?connectionParams=1`, then the token message).
 */
export async function openRawSocket(
  baseUrl: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<RawSocket> {
  const url = options.token ? `${wsUrl(baseUrl)}?connectionParams=1` : wsUrl(baseUrl);
  const socket = new WebSocket(url, { headers: options.headers ?? {}, perMessageDeflate: false });
  const raw: string[] = [];
  const handle: RawSocket = {
    socket,
    raw,
    frames: () => raw.map((text) => JSON.parse(text) as RawFrame),
    framesFor: (id) => handle.frames().filter((frame) => frame.id === id),
    send: (message) => socket.send(JSON.stringify(message)),
    sendText: (text) => socket.send(text),
    closed: null,
    until: async (check, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check(handle)) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out; closed ${JSON.stringify(handle.closed)}, ${raw.length} frames, last: ${raw.slice(-3).join(' | ').slice(0, 600)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    pause: () => (socket as unknown as { _socket: { pause(): void } })._socket.pause(),
    resume: () => (socket as unknown as { _socket: { resume(): void } })._socket.resume(),
    close: () => socket.terminate(),
  };
  socket.on('message', (data: Buffer, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text === 'PING') {
      socket.send('PONG');
      return;
    }
    if (text !== 'PONG') raw.push(text);
  });
  socket.on('close', (code, reason) => {
    handle.closed = { code, reason: reason.toString() };
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    socket.once('error', reject);
  });
  if (options.token) handle.send({ method: 'connectionParams', data: { token: options.token } });
  return handle;
}

/** An upgrade answered with plain HTTP instead of 101. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }
}

/** A subscription request to rooms.events, as wsLink sends it. */
export function subscribeFrame(id: number | string, room: string, lastEventId?: string, jsonrpc?: '2.0') {
  return {
    id,
    ...(jsonrpc ? { jsonrpc } : {}),
    method: 'subscription',
    params: { path: 'rooms.events', input: { room, ...(lastEventId === undefined ? {} : { lastEventId }) } },
  };
}

/** The tRPC error code name (e.g. CONFLICT) of a frame, if it is an error. */
export const errorCode = (frame: RawFrame | undefined) => frame?.error?.data?.code;
