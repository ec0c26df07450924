import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const distDir = join(webDir, 'dist');
/** What the build reads besides node_modules: a change in any of them makes web/dist stale. */
const sources = [
  join(webDir, 'src'),
  // Rules shared with the server (plain constants and functions) are bundled too.
  join(root, 'shared'),
  join(webDir, 'build'),
  join(webDir, 'index.html'),
  join(webDir, 'vite.config.ts'),
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why web/dist needs building, or null when it is up to date. */
export function webBuildStaleReason(): string | null {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return 'web/dist is missing';
  if (statSync(index).mtimeMs < Math.max(...sources.map(newestMtime))) {
    return 'web sources changed since the last build';
  }
  return null;
}

/**
 * Builds the web app into web/dist when it is missing or older than its sources. The build goes
 * to a temporary directory first and is swapped in at the end, so a server starting meanwhile
 * (another test run, say) never sees a half-written web/dist.
 */
export async function ensureWebBuild(options: { quiet?: boolean } = {}): Promise<void> {
  const reason = webBuildStaleReason();
  if (reason === null) return;
  if (!options.quiet) console.log(`Building the web app (${reason})…`);
  // Imported here: a production install that already has web/dist need not have Vite at all.
  const { build } = await import('vite');
  // Under node_modules/.cache: on the same disk (so renames are atomic) and ignored by git.
  const scratch = join(root, 'node_modules/.cache/atlas-chat-web');
  mkdirSync(scratch, { recursive: true });
  const staging = join(scratch, `dist-${process.pid}-${Date.now()}`);
  // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(webDir, 'vite.config.ts'),
      mode: 'production',
      logLevel: options.quiet ? 'warn' : 'info',
      build: { outDir: staging, emptyOutDir: true },
    });
    const old = join(scratch, `old-${process.pid}-${Date.now()}`);
    if (existsSync(distDir)) renameSync(distDir, old);
    renameSync(staging, distDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    rmSync(staging, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  ensureWebBuild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
