import { WebSocket } from 'ws';

/** One answer to a call: 200 for a result, else the error's HTTP status and message. */
export interface RawAnswer {
  status: number;
  message: string;
}

type Pending = { resolve(answer: RawAnswer): void; reject(error: Error): void };

/**
 * A bare tRPC WebSocket that writes JSON-RPC frames itself, so a test can pour in far more calls
 * than a client library would send (the audit's floods), with any upgrade headers it likes.
 */
export class RawTrpcSocket {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The close code, once the server (or we) closed the socket. */
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code) => {
        this.closeCode = code;
        for (const { reject } of this.pending.values()) reject(new Error(`socket closed (${code})`));
        this.pending.clear();
        resolve(code);
      });
    });
    socket.on('message', (data) => {
      const text = String(data);
      // tRPC's keep-alive: answer, or the server drops us during a long flood.
      if (text === 'PING') {
        socket.send('PONG');
        return;
      }
      const frame = JSON.parse(text) as {
        id?: number;
        result?: unknown;
        error?: { message: string; data?: { httpStatus?: number } };
      };
      const call = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
      if (!call || frame.id === undefined) return;
      this.pending.delete(frame.id);
      if (frame.error) call.resolve({ status: frame.error.data?.httpStatus ?? 0, message: frame.error.message });
      else call.resolve({ status: 200, message: '' });
    });
  }

  static async open(baseUrl: string, headers: Record<string, string> = {}): Promise<RawTrpcSocket> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/trpc`, { headers });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new RawTrpcSocket(socket);
  }

  /** Sends one call frame now; resolves with its answer. */
  call(method: 'query' | 'mutation', path: string, input?: unknown): Promise<RawAnswer> {
    const id = this.nextId++;
    const answer = new Promise<RawAnswer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.socket.send(JSON.stringify({ id, jsonrpc: '2.0', method, params: { path, input } }));
    // A flood's calls are awaited together later (settleFlood); one cut off by a close before then
    // is not an unhandled rejection. The caller still sees the rejection.
    answer.catch(() => {});
    return answer;
  }

  close(): void {
    this.socket.close();
  }
}

/** Counts answers by status: `{ 401: 10, 429: 990 }`. */
export function countStatuses(answers: readonly { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/**
 * Settles a flood of calls on one socket: the answers that came back, and how many calls were cut
 * off because the server closed the socket (a flood beyond the connection's frame budget is closed
 * with 1008, see docs/limits-live.md).
 */
export async function settleFlood(
  socket: RawTrpcSocket,
  calls: readonly Promise<RawAnswer>[],
): Promise<{ counts: Record<number, number>; cutOff: number }> {
  const settled = await Promise.allSettled(calls);
  const answers = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const cutOff = settled.length - answers.length;
  if (cutOff > 0 && socket.closeCode !== 1008) {
    throw new Error(`${cutOff} calls failed but the socket was not closed for flooding (${socket.closeCode})`);
  }
  return { counts: countStatuses(answers), cutOff };
}
