import { ensureBuild } from '../../scripts/ensure-build.js';

/**
 * Builds what is missing or stale, once, before any test: the browser tests drive the built web
 * app the server serves, and the process and client-package tests run the compiled server.
 */
export default function setup(): void {
  ensureBuild({ quiet: true });
}
