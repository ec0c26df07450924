/**
 * `npm run dev`: the API server (restarted by tsx on server changes) on PORT (default 3000) and
 * Vite with hot reload on http://localhost:5173, proxying /api, WebSocket included, to the API.
 * Open the Vite URL. The proxy keeps the browser's Host header (see web/vite.config.ts), so the
 * API's same-origin check accepts requests from the Vite page without ALLOWED_ORIGINS.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const apiPort = process.env.PORT || '3000';

// tsx watch restarts the API when a server file changes.
const api = spawn(
  process.execPath,
  [join(root, 'node_modules/tsx/dist/cli.mjs'), 'watch', join(root, 'server/main.ts')],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PORT: apiPort },
  },
);

// web/vite.config.ts reads the proxy target from here.
process.env.ATLAS_API_URL = `http://127.0.0.1:${apiPort}`;
const vite = await createServer({ configFile: join(root, 'web/vite.config.ts') });
await vite.listen();
vite.printUrls();
console.log(`  API: http://127.0.0.1:${apiPort} (docs at /api/docs)\n`);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  api.kill('SIGTERM');
  await vite.close();
  process.exit(code);
};
api.on('exit', (code) => {
  if (!stopping) {
    console.error(`API server exited (${code ?? 'signal'}); stopping.`);
    void stop(code ?? 1);
  }
});
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
