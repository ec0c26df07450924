import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, spawnServerProcess as startProcess, waitForHealth } from './support/server-process.ts';

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

  it('runs the compiled bundle alone: creates the database directory, serves the app, REST and API docs, and on SIGTERM exits 0 leaving one tidy database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-process-'));
    const databasePath = join(dir, 'nested', 'chat.db');
    const port = await freePort();
    const started = startProcess({ PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath });
    children.push(started.child);
    try {
      await waitForHealth(started, `http://127.0.0.1:${port}/healthz`);
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
      const { token } = (await signUp.json()) as { token: string };
      // The bundle's REST layer, its OpenAPI document and Swagger UI (served from its package's files).
      const rooms = await fetch(`http://127.0.0.1:${port}/api/rooms`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await rooms.json()).toEqual({ rooms: [], hasMore: false, nextCursor: null });
      const openapi = (await (await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).json()) as { paths: object };
      expect(Object.keys(openapi.paths)).toContain('/rooms/{room}/messages');
      const docs = await fetch(`http://127.0.0.1:${port}/api/docs`);
      expect(await docs.text()).toContain('swagger-ui');
      const asset = await fetch(`http://127.0.0.1:${port}/api/docs/static/swagger-ui.css`);
      expect(asset.status).toBe(200);
      // Read it all: a response left unread holds its connection, and shutdown waits for it.
      expect((await asset.text()).length).toBeGreaterThan(1000);

      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      expect(existsSync(databasePath)).toBe(true);
      // The write-ahead log was folded back into the database on close.
      const wal = `${databasePath}-wal`;
      expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);

      // And the data is there for the next start.
      const again = startProcess({ PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath });
      children.push(again.child);
      await waitForHealth(again, `http://127.0.0.1:${port}/healthz`);
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
