import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves to the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
}

/**
 * The server as `npm start` runs it: `node scripts/start.js`, one plain node process on the
 * compiled server (dist/server.js; the global set-up has built it), configured by the environment.
 * The --import guard makes loading any devDependency (tsx, vite, …) fail, as in a production
 * install.
 */
export function spawnServerProcess(env: Record<string, string>): ServerProcess {
  const child = spawn(
    process.execPath,
    ['--import', './tests/support/forbid-dev-dependencies.js', 'scripts/start.js'],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** A TCP port free right now (the OS picks it); the server binds it right after. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Polls until `url` answers 200; fails early if the process exits. */
export async function waitForHealth(server: ServerProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`exited (${server.child.exitCode}): ${server.output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200: ${server.output()}`);
}

export interface RunningServerProcess extends ServerProcess {
  baseUrl: string;
  /** SIGTERM, then the exit code; the temporary database goes with it. */
  stop(): Promise<number | null>;
}

/** The compiled server on a free port with a fresh database, healthy. */
export async function startServerProcess(env: Record<string, string> = {}): Promise<RunningServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-process-'));
  const port = await freePort();
  const server = spawnServerProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_PATH: join(dir, 'chat.db'),
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (server.child.exitCode === null) server.child.kill('SIGTERM');
    const code = await server.exited;
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  try {
    await waitForHealth(server, `${baseUrl}/healthz`);
  } catch (error) {
    server.child.kill('SIGKILL');
    await stop();
    throw error;
  }
  return { ...server, baseUrl, stop };
}
