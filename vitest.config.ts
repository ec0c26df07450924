import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own server on a free port with its own SQLite file.
    pool: 'forks',
    // Builds web/dist when it is missing or older than web/ sources: the browser tests use the built app.
    globalSetup: ['tests/web/global-setup.ts'],
  },
});
