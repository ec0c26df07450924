// @ts-check
/**
 * `npm start`: builds what is missing or stale (never in a production install without dev
 * dependencies; see ensure-build.js), then runs the compiled server in this same process: one
 * plain node process, configured by the environment like dist/server.js run directly (which is
 * what the container does).
 */
import { ensureBuild } from './ensure-build.js';

try {
  ensureBuild();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
// A URL, not a literal specifier: the type check (checkJs) must not need a build to exist.
await import(new URL('../dist/server.js', import.meta.url).href);
