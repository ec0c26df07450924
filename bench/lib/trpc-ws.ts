import { WebSocket } from 'ws';

/**
 * A minimal tRPC WebSocket client, the same code for atlas-chat and for the raw `ws` baseline:
 * connect with `?connectionParams=1`, send the token as the first message, answer the server's
 * PING with PONG, and hand every other frame to `onFrame`.
 */
export interface TrpcSocket {
  socket: WebSocket;
  send(message: unknown): void;
  close(): void;
}

export interface TrpcSocketOptions {
  url: string;
  token: string;
  /** Every frame but PING/PONG, as text: callers on a hot path may skip JSON.parse (see fanout-load). */
  onFrame: (text: string, receivedAt: number, bytes: number) => void;
  onClose?: () => void;
}

export interface TrpcFrame {
  id?: number | string | null;
  method?: string;
  result?: { type: 'started' | 'stopped' | 'data'; id?: string; data?: unknown };
  error?: { message?: string; code?: number; data?: unknown };
}

export function openTrpcSocket(options: TrpcSocketOptions): Promise<TrpcSocket> {
  return new Promise((resolveOpen, reject) => {
    const socket = new WebSocket(`${options.url}?connectionParams=1`, { perMessageDeflate: false });
    const handle: TrpcSocket = {
      socket,
      send: (message) => socket.send(JSON.stringify(message)),
      close: () => socket.terminate(),
    };
    socket.once('open', () => {
      socket.send(JSON.stringify({ method: 'connectionParams', data: { token: options.token } }));
      resolveOpen(handle);
    });
    socket.once('error', reject);
    socket.on('message', (data: Buffer, isBinary) => {
      const receivedAt = performance.now();
      const text = isBinary ? '' : data.toString();
      if (text === 'PING') {
        socket.send('PONG');
        return;
      }
      if (text === 'PONG') return;
      options.onFrame(text, receivedAt, data.length);
    });
    socket.once('close', () => options.onClose?.());
  });
}

/** Runs `task` over `items` with at most `limit` running at once. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The message carried by a rooms.events data frame (tracked: result.data = { id, data: event }). */
export function messageOf(frame: TrpcFrame): { text: string; seq: number } | null {
  const envelope = frame.result?.data as { data?: { type?: string; message?: { text: string; seq: number } } };
  const event = envelope?.data;
  return event?.type === 'message' && event.message ? event.message : null;
}
