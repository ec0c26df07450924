import { createApp } from './app.ts';
import { ConfigError, parseConfig } from './config.ts';

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

  const app = await createApp(config);
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
