/**
 * The audit's live-subscription attack (issue 8, item 2), as a measurement: one self-registered
 * user opens several WebSockets, sends hundreds of `rooms.events` subscriptions with
 * `lastEventId: "0"` on each (a room with long messages to replay), and never reads. Prints the
 * server's peak RSS and /healthz latency while it lasts, and whether the server survived.
 *
 *   npx tsx bench/live-attack.ts [--sockets 4] [--subs 600] [--messages 1000] [--text 4000]
 *                                [--seconds 20] [--rss-limit-mb 6000]
 *
 * Runs the real server (`server/main.ts`) with its default configuration (RATE_LIMITS=on) as a
 * child process. The run stops early when the server's RSS passes --rss-limit-mb, so a server
 * without the limits cannot take the machine down with it. Not part of `npm run bench`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { WebSocket } from 'ws';
import { detectPinning, readRssKiB, startServer } from './lib/processes.ts';
import { seedDatabase } from './lib/seed.ts';

const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '4' },
    subs: { type: 'string', default: '600' },
    messages: { type: 'string', default: '1000' },
    text: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '20' },
    'rss-limit-mb': { type: 'string', default: '6000' },
  },
});
const sockets = Number(values.sockets);
const subs = Number(values.subs);
const messages = Number(values.messages);
const textLength = Number(values.text);
const seconds = Number(values.seconds);
const rssLimitKiB = Number(values['rss-limit-mb']) * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds for one GET /healthz (capped at 10 s: a timeout counts as 10 s). */
function healthzMs(baseUrl: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${baseUrl}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(performance.now() - started));
    });
    req.once('error', () => resolve(10_000));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-live-attack-'));
  try {
    const seed = await seedDatabase(join(dir, 'attack.db'), { users: 1, room: 'attack', messages });
    // Long texts make each replayed message about textLength bytes on the wire.
    const sqlite = new Database(seed.path);
    sqlite.prepare('update messages set text = ?').run('x'.repeat(textLength));
    sqlite.close();
    const token = seed.accounts[0]?.token ?? '';

    const server = await startServer('server/main.ts', detectPinning(), {
      DATABASE_PATH: seed.path,
      RATE_LIMITS: 'on',
      LOG_LEVEL: 'warn',
    });
    let exited: string | null = null;
    server.child.once('exit', (code, signal) => {
      exited = `exited (${code ?? signal})`;
    });
    const baselineKiB = readRssKiB(server.pid);
    const opened: WebSocket[] = [];
    const closes: number[] = [];
    for (let index = 0; index < sockets; index += 1) {
      const socket = new WebSocket(`${server.wsUrl}?connectionParams=1`, { perMessageDeflate: false });
      socket.on('error', () => {});
      socket.on('close', (code) => closes.push(code));
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      });
      socket.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      // Batches of 50 subscriptions per frame, as wsLink would send them.
      for (let first = 1; first <= subs; first += 50) {
        const batch = [];
        for (let id = first; id < Math.min(first + 50, subs + 1); id += 1) {
          batch.push({
            id,
            method: 'subscription',
            params: { path: 'rooms.events', input: { room: 'attack', lastEventId: '0' } },
          });
        }
        socket.send(JSON.stringify(batch));
      }
      // Never read again: everything the server sends now piles up somewhere.
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      opened.push(socket);
    }

    let peakKiB = baselineKiB;
    const latencies: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    let stoppedEarly = false;
    while (performance.now() < deadline && exited === null) {
      try {
        peakKiB = Math.max(peakKiB, readRssKiB(server.pid));
      } catch {
        break;
      }
      if (peakKiB > rssLimitKiB) {
        stoppedEarly = true;
        break;
      }
      latencies.push(await healthzMs(server.baseUrl));
      await sleep(200);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    const endKiB = exited === null ? readRssKiB(server.pid) : Number.NaN;
    console.log(
      JSON.stringify(
        {
          attack: { sockets, subscriptionsPerSocket: subs, messages, textLength, seconds },
          server: exited ?? (stoppedEarly ? `stopped early: RSS over ${values['rss-limit-mb']} MB` : 'alive'),
          rssBaselineMB: Math.round(baselineKiB / 1024),
          rssPeakMB: Math.round(peakKiB / 1024),
          rssEndMB: Number.isNaN(endKiB) ? null : Math.round(endKiB / 1024),
          healthzMs: {
            samples: sorted.length,
            p50: Math.round(at(0.5)),
            p99: Math.round(at(0.99)),
            max: Math.round(sorted.at(-1) ?? Number.NaN),
          },
          socketsClosedByServer: closes.length,
          closeCodes: [...new Set(closes)],
        },
        null,
        2,
      ),
    );
    for (const socket of opened) socket.terminate();
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
