import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { describe } from 'vitest';

/** The Redis the shared-mode tests use (the machine's service); each test file picks its own key prefix. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const inCi = process.env.CI === 'true';

async function probe(url: string): Promise<string | null> {
  const client = createClient({ url, socket: { connectTimeout: 3000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || String(error) : String(error);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Why Redis cannot be used, or null when it answers. */
export const redisUnreachable = await probe(TEST_REDIS_URL);

/**
 * `describe` for tests on Redis. Without a reachable server they are skipped locally with the
 * reason; with CI=true they run anyway and fail on the connection, never skip.
 */
export const describeRedis = redisUnreachable === null || inCi ? describe : describe.skip;
if (redisUnreachable !== null) {
  const note = `Redis at ${TEST_REDIS_URL} is unreachable (${redisUnreachable})`;
  if (inCi) console.error(`${note}: the Redis tests will fail (CI=true).`);
  else console.warn(`Skipping Redis tests: ${note}. Start it or set TEST_REDIS_URL.`);
}

/** A channel and key prefix of its own for one test file, so files running in parallel never meet. */
export function testRedisPrefix(name: string): string {
  return `atlas-test:${process.pid}:${name}:`;
}

/** Runs one command on `url` over a fresh connection. */
export async function redisCommand(url: string, args: string[]): Promise<unknown> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface PrivateRedis {
  url: string;
  /** Stops the server (SIGTERM) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A redis-server of this test's own on a free port (no persistence), for restarting Redis or
 * killing every pub/sub connection without disturbing other tests on the shared one.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    // Already running: nothing to do (a second server could not bind the port anyway).
    if (child && child.exitCode === null) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while ((await probe(url)) !== null) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return { url, start, stop, close: stop };
}
