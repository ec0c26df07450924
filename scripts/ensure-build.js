// @ts-check
/**
 * Builds what is missing or older than its sources: the compiled server and client package
 * (dist/, `npm run build:server`) and the web app (web/dist, `npm run build:web`). Used by
 * `npm start` (scripts/start.js), `npm pack` (prepack), the benchmark and the tests' global set-up.
 *
 * Plain JavaScript that imports nothing but Node, because it runs before anything is compiled and
 * in production installs (`npm ci --omit=dev`) that have no TypeScript, tsx or Vite. There, a
 * build that looks stale is used as it is (with a warning); a missing one is an error that says
 * how to build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @typedef {object} Part
 * @property {string} name
 * @property {string} script the npm script that builds it
 * @property {string} output a file every build of it writes anew
 * @property {string[]} sources what the build reads besides node_modules
 */

/** @type {Part[]} */
export const parts = [
  {
    name: 'server',
    script: 'build:server',
    output: 'dist/server.js',
    sources: ['server', 'shared', 'client', 'drizzle', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.js'],
  },
  {
    name: 'web app',
    script: 'build:web',
    output: 'web/dist/index.html',
    sources: ['web/src', 'shared', 'web/build', 'web/index.html', 'web/vite.config.ts'],
  },
];

/** @param {string} path */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Why a part needs building, or null when it is up to date: a walk over the source files' mtimes,
 * a few milliseconds for this tree.
 * @param {Part} part
 * @returns {string | null}
 */
export function staleReason(part) {
  const output = join(root, part.output);
  if (!existsSync(output)) return `${part.output} is missing`;
  const newestSource = Math.max(...part.sources.map((source) => newestMtime(join(root, source))));
  return statSync(output).mtimeMs < newestSource ? `its sources changed since ${part.output} was built` : null;
}

/**
 * Whether every devDependency is installed. Building needs them (tsc, @types/*, Vite and its
 * plugins); some build tools can be present without the rest (TypeScript is a peer dependency of
 * @trpc/*, so `npm ci --omit=dev` installs it), and a build half-equipped would fail.
 */
function devDependenciesInstalled() {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Object.keys(manifest.devDependencies ?? {}).every((name) =>
    existsSync(join(root, 'node_modules', name, 'package.json')),
  );
}

/**
 * Runs `npm run build:server` and/or `npm run build:web` where needed; throws when a missing build
 * cannot be made.
 * @param {{ quiet?: boolean }} [options]
 */
export function ensureBuild(options = {}) {
  /** @type {boolean | undefined} */
  let canBuild;
  for (const part of parts) {
    const reason = staleReason(part);
    if (reason === null) continue;
    canBuild ??= devDependenciesInstalled();
    if (!canBuild) {
      const how = 'install the dev dependencies (npm ci) and run npm run build';
      if (!existsSync(join(root, part.output))) {
        throw new Error(
          `The ${part.name} is not built (${reason}) and the dev dependencies are not installed: ${how}.`,
        );
      }
      console.warn(`Warning: the ${part.name} build looks stale (${reason}); using it as it is. To rebuild: ${how}.`);
      continue;
    }
    if (!options.quiet) console.log(`Building the ${part.name} (${reason})…`);
    const args = ['run', ...(options.quiet ? ['--silent'] : []), part.script];
    if (options.quiet && part.script === 'build:web') args.push('--', '--logLevel', 'warn');
    const result = spawnSync('npm', args, {
      cwd: root,
      stdio: 'inherit',
      // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build.
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (result.status !== 0) {
      throw new Error(`npm run ${part.script} failed (${result.error?.message ?? `exit ${result.status}`})`);
    }
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    ensureBuild();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
