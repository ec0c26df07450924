import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { bundleBudget } from './build/bundle-budget.ts';

const apiTarget = process.env.ATLAS_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), bundleBudget({ maxInitialKiB: 150 })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      // The API's CSRF guard compares Origin with the Host the request arrived on. Leaving
      // changeOrigin off forwards the browser's Host (localhost:5173) unchanged, so Origin and Host
      // agree and cookie-authenticated POSTs and WebSocket upgrades pass without ALLOWED_ORIGINS.
      '/api': { target: apiTarget, ws: true, changeOrigin: false },
    },
  },
});
