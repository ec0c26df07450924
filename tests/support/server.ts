import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type App, createApp } from '../../server/app.ts';
import { type ConfigInput, parseConfig } from '../../server/config.ts';
import { type Backend, suiteBackend, testDatabaseEnv } from './stores.ts';

export interface TestServer {
  app: App;
  /** e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  /** The SQLite file (when `backend` is sqlite). */
  databasePath: string;
  /** Where this server keeps its data: TEST_STORE (default sqlite), or SQLite when the test set DATABASE_PATH. */
  backend: Backend;
  /** Ends every session behind the server's back, as time would (the database's clock, not the server's). */
  expireSessions(): Promise<void>;
  /** Stops the server and starts a new one on the same database file (a restart). */
  restart(): Promise<TestServer>;
  close(): Promise<void>;
}

/**
 * Starts the real server (the same createApp as `npm start`) on a free port with a fresh, empty
 * database: a SQLite file in a temp directory, or with TEST_STORE=postgres a new PostgreSQL
 * database (the vitest project "postgres" runs the API and live suites that way). Tests talk to it
 * over real HTTP and WebSocket.
 */
export async function startTestServer(env: Partial<Record<keyof ConfigInput, string>> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-test-'));
  const databasePath = join(dir, 'test.db');
  const backend = env.DATABASE_PATH === undefined ? suiteBackend() : 'sqlite';
  const database = await testDatabaseEnv(backend, databasePath);
  return startOn(databasePath, backend, { ...database.env, ...env }, async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
}

async function expireSessions(backend: Backend, env: Partial<Record<keyof ConfigInput, string>>, path: string) {
  if (backend === 'sqlite') {
    const sqlite = new Database(env.DATABASE_PATH ?? path);
    try {
      sqlite.prepare('update sessions set expires_at = ?').run(Date.now() - 1000);
    } finally {
      sqlite.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    await client.query("update sessions set expires_at = now() - interval '1 second'");
  } finally {
    await client.end();
  }
}

async function startOn(
  databasePath: string,
  backend: Backend,
  env: Partial<Record<keyof ConfigInput, string>>,
  cleanup: () => Promise<void>,
): Promise<TestServer> {
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await createApp(config);
  await app.listen();
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server did not bind a TCP port');
  const server: TestServer = {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    databasePath,
    backend,
    expireSessions: () => expireSessions(backend, env, databasePath),
    /** Same database and same port, so open WebSocket clients can reconnect to it. */
    async restart() {
      await app.close();
      return startOn(databasePath, backend, { ...env, PORT: String(address.port) }, cleanup);
    },
    async close() {
      await app.close();
      await cleanup();
    },
  };
  return server;
}
