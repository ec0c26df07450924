import { createApp } from './app.ts';
import { ConfigError, parseConfig } from './config.ts';
import { StoreUnavailableError } from './store/errors.ts';

/** How long a shutdown waits for answers still being read before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(config);
  } catch (error) {
    // PostgreSQL not reachable at start: one plain line; a supervisor starts us again later.
    if (error instanceof StoreUnavailableError) {
      console.error(`atlas-chat cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  try {
    await app.listen();
  } catch (error) {
    // Typically EADDRINUSE: say so plainly instead of a stack trace, and release the database.
    console.error(`Cannot listen on ${config.HOST}:${config.PORT}: ${error instanceof Error ? error.message : error}`);
    await app.close();
    process.exit(1);
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.server.log.info({ signal }, 'shutting down');
    // A client that stops reading a large answer would otherwise hold the shutdown forever.
    setTimeout(() => {
      app.server.log.warn('connections still open after the grace period: closing them');
      app.server.server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('atlas-chat failed to start:', error);
  process.exit(1);
});
