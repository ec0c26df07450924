/**
 * `npm start`: builds the web app if web/dist is missing or stale, then runs the server exactly as
 * server/main.ts does (same config from the environment, same graceful shutdown).
 */
import { ensureWebBuild } from './ensure-web-build.ts';

await ensureWebBuild();
await import('../server/main.ts');
