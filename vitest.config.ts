import { defineConfig } from 'vitest/config';

/**
 * The API and live suites, run a second time with every test server on PostgreSQL (TEST_STORE, see
 * tests/support/server.ts): a client must not be able to tell the backends apart. Store-level tests
 * loop over both backends themselves; browser, process and SQLite-file tests run once.
 */
const API_AND_LIVE = [
  'account',
  'auth',
  'client',
  'health',
  'http-hardening',
  'input-robustness',
  'lists',
  'live-changes',
  'live-limits',
  'live',
  'me-events',
  'message-changes',
  'messages',
  'metrics',
  'my-rooms',
  'persistence',
  'room-creation',
  'rooms',
  'search',
  'security',
  'sign-in-abuse',
  'stats',
  'wire-format',
].map((name) => `tests/${name}.test.ts`);

const BENCH_SMOKE = 'tests/bench.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own server on a free port with its own database.
    pool: 'forks',
    // Two files at a time: most of a test waits on sockets, argon2id and fsync, so two workers on
    // two cores took the suite from 357 s to 214 s here (vitest's default was one at a time).
    maxWorkers: 2,
    // Builds dist/ and web/dist when missing or older than their sources: the browser tests use the
    // built web app, the process and client-package tests the compiled server.
    globalSetup: ['tests/support/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['tests/**/*.test.ts'], exclude: [BENCH_SMOKE], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'postgres', include: API_AND_LIVE, env: { TEST_STORE: 'postgres' }, sequence: { groupOrder: 0 } },
      },
      // Last and alone: the bench harness pins its servers to the cores and needs them to itself to
      // produce figures at all (it asserts none of them).
      { extends: true, test: { name: 'bench', include: [BENCH_SMOKE], sequence: { groupOrder: 1 } } },
    ],
  },
});
