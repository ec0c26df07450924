import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signUp } from './support/clients.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

// The database holds password hashes: only the server's own user may read it (item 10).
describe('database file permissions', () => {
  let root: string | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
    server = undefined;
    root = undefined;
  });

  it('a fresh data directory is 0700; the database, WAL and SHM files are 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'atlas-chat-files-'));
    const dataDir = join(root, 'data', 'chat');
    const databasePath = join(dataDir, 'atlas-chat.db');
    server = await startTestServer({ DATABASE_PATH: databasePath, RATE_LIMITS: 'off' });
    // A write, so the WAL holds something while the server runs.
    await signUp(server.baseUrl);
    expect(mode(join(root, 'data'))).toBe(0o700);
    expect(mode(dataDir)).toBe(0o700);
    for (const file of [databasePath, `${databasePath}-wal`, `${databasePath}-shm`]) {
      expect([file, mode(file).toString(8)]).toEqual([file, '600']);
    }
  });

  it('an existing database file readable by others is tightened to 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'atlas-chat-files-'));
    const databasePath = join(root, 'old.db');
    closeSync(openSync(databasePath, 'w'));
    chmodSync(databasePath, 0o644);
    server = await startTestServer({ DATABASE_PATH: databasePath, RATE_LIMITS: 'off' });
    await signUp(server.baseUrl);
    expect(mode(databasePath).toString(8)).toBe('600');
    expect(mode(`${databasePath}-wal`).toString(8)).toBe('600');
  });
});
