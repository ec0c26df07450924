import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, createApp } from '../../server/app.ts';
import { type ConfigInput, parseConfig } from '../../server/config.ts';

export interface TestServer {
  app: App;
  /** e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  databasePath: string;
  /** Stops the server and starts a new one on the same database file (a restart). */
  restart(): Promise<TestServer>;
  close(): Promise<void>;
}

/**
 * Starts the real server (the same createApp as `npm start`) on a free port with a fresh SQLite
 * file in a temp directory. Tests talk to it over real HTTP.
 */
export async function startTestServer(env: Partial<Record<keyof ConfigInput, string>> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-test-'));
  const databasePath = join(dir, 'test.db');
  return startOn(databasePath, env, () => rmSync(dir, { recursive: true, force: true }));
}

async function startOn(
  databasePath: string,
  env: Partial<Record<keyof ConfigInput, string>>,
  cleanup: () => void,
): Promise<TestServer> {
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_PATH: databasePath,
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
    /** Same file and same port, so open WebSocket clients can reconnect to it. */
    async restart() {
      await app.close();
      return startOn(databasePath, { ...env, PORT: String(address.port) }, cleanup);
    },
    async close() {
      await app.close();
      cleanup();
    },
  };
  return server;
}
