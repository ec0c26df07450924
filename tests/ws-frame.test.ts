import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { directStream, textFrame, writeTextFrame } from '../server/live/ws-frame.ts';

/**
 * The broadcaster builds each WebSocket frame once and writes the same bytes to every socket
 * (server/live/ws-frame.ts). A real `ws` client must read them as the text messages they carry, at
 * each of the protocol's three length encodings, and in order with frames `ws` itself sent.
 */
let server: WebSocketServer;
let url: string;
const serverSockets: WebSocket[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => serverSockets.push(socket));
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connect(): Promise<{ client: WebSocket; peer: WebSocket; received: string[] }> {
  const before = serverSockets.length;
  const client = new WebSocket(url);
  const received: string[] = [];
  client.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    received.push(data.toString());
  });
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  await expect.poll(() => serverSockets.length).toBe(before + 1);
  const peer = serverSockets[before];
  if (!peer) throw new Error('no server socket');
  return { client, peer, received };
}

test('short, 16-bit and 64-bit lengths arrive as the same text, in order with frames ws sent itself', async () => {
  const { client, peer, received } = await connect();
  // The direct path, not ws.send's fallback, is what is under test.
  expect(directStream(peer)).not.toBeNull();
  // ASCII, so characters are bytes: 125 is the largest 7-bit length, 65,535 the largest 16-bit one.
  const texts = [5, 125, 126, 1_000, 65_535, 65_536, 200_000].map((length, index) =>
    `${index}:${'x'.repeat(length)}`.slice(0, length),
  );
  const expected: string[] = [];
  for (const [index, text] of texts.entries()) {
    const payload = Buffer.from(text);
    writeTextFrame(peer, directStream(peer), textFrame(payload), payload);
    expected.push(text);
    peer.send(`ws ${index}`);
    expected.push(`ws ${index}`);
  }
  await expect.poll(() => received.length).toBe(expected.length);
  expect(received).toEqual(expected);
  client.close();
});

test('a socket that is closing gets nothing more, and no error is thrown', async () => {
  const { client, peer, received } = await connect();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  peer.close(1000, 'bye');
  const payload = Buffer.from('too late');
  expect(() => writeTextFrame(peer, directStream(peer), textFrame(payload), payload)).not.toThrow();
  await closed;
  expect(received).toEqual([]);
});
