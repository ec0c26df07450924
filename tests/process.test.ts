import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The server as `npm start` runs it: `node scripts/start.js`, one plain node process on the
 * compiled server (the global set-up has built it), configured by the environment. The --import
 * guard makes loading any devDependency (tsx, vite, …) fail, as a production install would.
 */
function startProcess(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', './tests/support/forbid-dev-dependencies.js', 'scripts/start.js'],
    {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200`);
}

/** Processes whose parent is `pid`, from /proc (Linux). */
function childPids(pid: number | undefined): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('the server process', () => {
  it('refuses to start on bad configuration and lists every bad field', async () => {
    const started = startProcess({ PORT: 'abc', RATE_LIMITS: 'maybe', DATABASE_PATH: ':memory:' });
    children.push(started.child);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('PORT');
    expect(started.output()).toContain('RATE_LIMITS');
  });

  it('runs compiled JavaScript alone: creates the database directory, serves, and on SIGTERM exits 0 leaving one tidy database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-process-'));
    const databasePath = join(dir, 'nested', 'chat.db');
    const port = await freePort();
    const started = startProcess({ PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath });
    children.push(started.child);
    try {
      await waitForHealth(`http://127.0.0.1:${port}/healthz`);
      // One process: nothing started beside it (the old `npm start` ran a tsx launcher and a child).
      expect(childPids(started.child.pid)).toEqual([]);
      // The web build and the migrations were found from the package root, not from the module's depth.
      const page = await fetch(`http://127.0.0.1:${port}/rooms/general`);
      expect(await page.text()).toContain('<div id="root">');
      const signUp = await fetch(`http://127.0.0.1:${port}/api/auth/sign-up`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'process_user', password: 'correct horse battery' }),
      });
      expect(signUp.status).toBe(200);

      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      expect(existsSync(databasePath)).toBe(true);
      // The write-ahead log was folded back into the database on close.
      const wal = `${databasePath}-wal`;
      expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);

      // And the data is there for the next start.
      const again = startProcess({ PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath });
      children.push(again.child);
      await waitForHealth(`http://127.0.0.1:${port}/healthz`);
      const signIn = await fetch(`http://127.0.0.1:${port}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'process_user', password: 'correct horse battery' }),
      });
      expect(signIn.status).toBe(200);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
