/**
 * The ceiling for the fan-out and connection scenarios: a minimal broadcast server on the `ws`
 * package. It speaks just enough of tRPC's WebSocket protocol for the bench's client (the same
 * code that talks to atlas-chat): connectionParams, subscription → "started", query → a small
 * answer, PING → PONG. POST /publish {room, text} turns the text into a message shaped like
 * atlas-chat's, serializes its frame once per message and sends the same bytes to every
 * subscriber of the room. No auth, no database, no validation: only the broadcast.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';

interface Subscription {
  socket: WebSocket;
  id: number | string;
}

const rooms = new Map<string, Set<Subscription>>();
let nextSeq = 0;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolveBody(Buffer.concat(chunks).toString()));
    req.once('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function publish(room: string, text: string) {
  nextSeq += 1;
  const seq = nextSeq;
  const message = {
    id: seq,
    room,
    seq,
    author: 'bench_0',
    text,
    createdAt: new Date().toISOString(),
    clientId: null,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    replyTo: null,
  };
  // atlas-chat's event ids are `c<change>` (decision 019); in a room with only posts the change
  // counter equals the seq, so the ids, like the rest of the frame, have the same bytes.
  const eventId = `c${seq}`;
  const event = JSON.stringify({ type: 'message', message });
  // Same frame layout as tRPC's tracked data frame; one buffer per subscription id in use.
  const frames = new Map<number | string, Buffer>();
  for (const subscription of rooms.get(room) ?? []) {
    let frame = frames.get(subscription.id);
    if (!frame) {
      frame = Buffer.from(
        `{"id":${JSON.stringify(subscription.id)},"result":{"type":"data","data":{"id":"${eventId}","data":${event}},"id":"${eventId}"}}`,
      );
      frames.set(subscription.id, frame);
    }
    subscription.socket.send(frame, { binary: false });
  }
  return message;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (req.method === 'POST' && req.url === '/publish') {
    readBody(req).then(
      (body) => {
        const input = JSON.parse(body) as { room: string; text: string };
        sendJson(res, 200, { message: publish(input.room, input.text) });
      },
      () => sendJson(res, 400, { message: 'bad body' }),
    );
    return;
  }
  sendJson(res, 404, { message: 'not found' });
});

const wss = new WebSocketServer({ server, path: '/api/trpc', maxPayload: 64 * 1024 });
wss.on('connection', (socket, req) => {
  let awaitingParams = new URL(req.url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1';
  const mine = new Map<number | string, { room: string; subscription: Subscription }>();
  socket.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text === 'PING') return socket.send('PONG');
    if (text === 'PONG') return;
    if (awaitingParams) {
      awaitingParams = false;
      return;
    }
    const message = JSON.parse(text) as {
      id: number | string;
      method: string;
      params?: { input?: { room?: string } };
    };
    if (message.method === 'subscription') {
      const room = message.params?.input?.room ?? '';
      const subscription = { socket, id: message.id };
      let subscribers = rooms.get(room);
      if (!subscribers) {
        subscribers = new Set();
        rooms.set(room, subscribers);
      }
      subscribers.add(subscription);
      mine.set(message.id, { room, subscription });
      socket.send(JSON.stringify({ id: message.id, result: { type: 'started' } }));
    } else if (message.method === 'subscription.stop') {
      const entry = mine.get(message.id);
      if (entry) rooms.get(entry.room)?.delete(entry.subscription);
      mine.delete(message.id);
    } else {
      socket.send(JSON.stringify({ id: message.id, result: { type: 'data', data: { user: { username: 'bench' } } } }));
    }
  });
  socket.once('close', () => {
    for (const { room, subscription } of mine.values()) rooms.get(room)?.delete(subscription);
  });
});

// As long as Fastify's default in atlas-chat: a load process never finds its connection closed under it.
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');

const shutdown = () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
