import { type ClientRequest, type IncomingMessage, request } from 'node:http';

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export interface SseStream {
  status: number;
  events: SseEvent[];
  /** The data events (tRPC sends tracked yields as unnamed events), parsed. */
  data(): Array<{ id: string | undefined; data: unknown }>;
  /** Set once the server ended the response or dropped the connection. */
  ended: boolean;
  until(check: (stream: SseStream) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops reading the response: what the server sends piles up in kernel and server buffers. */
  pause(): void;
  resume(): void;
  close(): void;
}

/**
 * A tRPC subscription over SSE (tRPC's HTTP adapter serves it as `text/event-stream`), read with
 * node:http so a test can stop reading it like a slow client.
 */
export function openSse(baseUrl: string, path: string, input: unknown, token: string): Promise<SseStream> {
  const url = `${baseUrl}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    let buffer = '';
    const stream: SseStream = {
      status: 0,
      events: [],
      data: () =>
        stream.events
          .filter((event) => event.event === undefined)
          .map((event) => ({ id: event.id, data: JSON.parse(event.data) as unknown })),
      ended: false,
      until: async (check, timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!check(stream)) {
          if (Date.now() > deadline) {
            throw new Error(
              `timed out; ended ${stream.ended}, ${stream.events.length} events, last: ${JSON.stringify(stream.events.slice(-2)).slice(0, 600)}`,
            );
          }
          await new Promise((wait) => setTimeout(wait, 10));
        }
      },
      pause: () => response?.pause(),
      resume: () => response?.resume(),
      close: () => req?.destroy(),
    };
    req = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      response = res;
      stream.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: undefined, data: '', id: undefined };
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event.event = value;
            else if (field === 'data') event.data += value;
            else if (field === 'id') event.id = value;
          }
          if (block.trim() !== '') stream.events.push(event);
        }
      });
      const end = () => {
        stream.ended = true;
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(stream);
    });
    req.on('error', (error) => {
      stream.ended = true;
      reject(error);
    });
    req.end();
  });
}
