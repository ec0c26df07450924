import { ensureWebBuild } from '../../scripts/ensure-web-build.ts';

/** The browser tests drive the built app that the server serves: build it once if it is stale. */
export default async function setup(): Promise<void> {
  await ensureWebBuild({ quiet: true });
}
