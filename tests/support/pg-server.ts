import { type App, createApp } from '../../server/app.ts';
import { type ConfigInput, parseConfig } from '../../server/config.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { type ServerProcess, spawnServerProcess, waitForHealth } from './server-process.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

type Env = Partial<Record<keyof ConfigInput, string>>;

export interface InProcessServer {
  app: App;
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The real server (createApp, as `npm start`) in this process on a free port, configured by `env`
 * alone: unlike startTestServer it makes no database of its own, so a test can point it at one it
 * controls (a PostgreSQL database behind a TCP proxy, a copied SQLite file).
 */
export async function startServerOn(env: Env): Promise<InProcessServer> {
  const app = await createApp(parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }));
  await app.listen();
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server did not bind a TCP port');
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export interface ProxiedDatabase {
  database: TestDatabase;
  proxy: TcpProxy;
  /** The database's URL through the proxy: what the server under test is given. */
  url: string;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database reachable through a TCP proxy the test can stop, hang and start. */
export async function proxiedDatabase(): Promise<ProxiedDatabase> {
  const database = await createTestDatabase();
  const direct = new URL(database.url);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const url = new URL(database.url);
  url.host = `127.0.0.1:${proxy.port}`;
  return {
    database,
    proxy,
    url: url.toString(),
    async close() {
      await proxy.close();
      await database.drop();
    },
  };
}

export interface PgServerProcess extends ServerProcess {
  baseUrl: string;
  /** SIGTERM (or the given signal) and the exit code; null when a signal ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The compiled server (`npm start`: node scripts/start.js) as its own process on `port`, with
 * DATABASE_URL set: several of them can share one PostgreSQL database, and one can be SIGKILLed.
 * Resolves once /healthz answers 200.
 */
export async function startPgServerProcess(url: string, port: number, env: Env = {}): Promise<PgServerProcess> {
  const server = spawnServerProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    // Empty counts as unset (server/config.ts): never both, whatever the parent's environment holds.
    DATABASE_PATH: '',
    RATE_LIMITS: 'off',
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
    return server.exited;
  };
  try {
    await waitForHealth(server, `${baseUrl}/healthz`);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { ...server, baseUrl, stop };
}
