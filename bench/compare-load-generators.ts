/**
 * Is the HTTP load generator what limits the bare tRPC mutation baseline? Drives `noop` on
 * bench/baseline-trpc-server.ts alternately with the node:http closed loop the bench used before
 * (one request in flight per worker, keep-alive agent) and with autocannon (what it uses now),
 * same concurrency, several rounds, and prints req/s with the server's and the generator's CPU.
 * A generator whose own core is near 100% while the server's is not sets the pace.
 * Usage: taskset -c 1 npx tsx bench/compare-load-generators.ts [rounds=3] [seconds=5] [concurrency=32]
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { detectPinning, killAllChildren, readCpuSeconds, startServer } from './lib/processes.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 32);
const body = JSON.stringify({ room: 'bench', text: 'Deploy finished on staging, smoke tests are green.' });

async function nodeHttpLoop(url: URL, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const payload = Buffer.from(body);
  let completed = 0;
  const end = performance.now() + ms;
  const once = () =>
    new Promise<void>((resolveRequest) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(payload.length) },
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode === 200) completed += 1;
            resolveRequest();
          });
        },
      );
      req.once('socket', (socket) => socket.setNoDelay(true));
      req.once('error', () => resolveRequest());
      req.end(payload);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await once();
    }),
  );
  agent.destroy();
  return completed;
}

async function autocannonRun(url: URL, ms: number): Promise<number> {
  const result = await autocannon({
    url: url.href,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: concurrency,
    duration: ms / 1000,
  });
  return result['2xx'];
}

const server = await startServer('bench/baseline-trpc-server.ts', detectPinning(), {});
const url = new URL(`${server.baseUrl}/api/trpc/noop`);
try {
  for (let round = 1; round <= rounds; round += 1) {
    for (const [name, generator] of [
      ['node:http loop', nodeHttpLoop],
      ['autocannon', autocannonRun],
    ] as const) {
      await generator(url, 1000);
      const serverBefore = readCpuSeconds(server.pid);
      const loadBefore = readCpuSeconds(process.pid);
      const start = performance.now();
      const completed = await generator(url, seconds * 1000);
      const wall = (performance.now() - start) / 1000;
      const serverCpu = readCpuSeconds(server.pid) - serverBefore;
      const loadCpu = readCpuSeconds(process.pid) - loadBefore;
      console.log(
        `round ${round} ${name.padEnd(14)} ${(completed / wall).toFixed(0).padStart(6)} req/s  server core ${((serverCpu / wall) * 100).toFixed(0).padStart(3)}%  generator core ${((loadCpu / wall) * 100).toFixed(0).padStart(3)}%  server ${((serverCpu / completed) * 1e6).toFixed(0)} µs/req`,
      );
    }
  }
} finally {
  await server.stop();
  killAllChildren();
}
