import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'atlas-chat';

/**
 * The directory holding atlas-chat's package.json, found by walking up from this module. The same
 * answer whether the server runs from its TypeScript sources (server/) or compiled (dist/server/),
 * and whatever the working directory: files that ship beside the code (migrations, the web build)
 * are found from here, in one place, never by counting `..` from a module's own location.
 */
function findPackageRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named "${PACKAGE_NAME}" above ${start}`);
  }
}

let root: string | undefined;

/** Found on first use, then remembered: no file system access at import. */
export function packageRoot(): string {
  root ??= findPackageRoot();
  return root;
}

/** Drizzle's SQL migrations (drizzle/), applied at every start. */
export function migrationsDir(): string {
  return join(packageRoot(), 'drizzle');
}

/** The web app's production build (web/dist), served at /. */
export function webDistDir(): string {
  return join(packageRoot(), 'web', 'dist');
}
