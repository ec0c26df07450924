import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own server on a free port with its own SQLite file.
    pool: 'forks',
    // Builds dist/ and web/dist when missing or older than their sources: the browser tests use the
    // built web app, the process and client-package tests the compiled server.
    globalSetup: ['tests/support/global-setup.ts'],
  },
});
