import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from './support/server-process.ts';

/**
 * `atlas-chat/client` as a stranger gets it: `npm pack`, installed from the tarball into a fresh
 * project, compiled there with plain tsc and `tsc --init`'s settings (no allowImportingTsExtensions,
 * no path into our sources), run against the compiled server. The fixture is
 * tests/fixtures/client-consumer. Dependencies come from npm's cache when it has them
 * (--prefer-offline; `npm ci` in this repository fills it with the very same versions).
 */
const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'atlas-client-package-'));
const project = join(dir, 'consumer');

interface Run {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** tsc's error lines, as "file(line,col): error TSnnnn: message". */
const errorLines = (output: string) => output.split('\n').filter((line) => /error TS\d+/.test(line));

let packedFiles: string[] = [];

beforeAll(async () => {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
  expect(packed.code, packed.output).toBe(0);
  // npm prints lifecycle output (prepack) before the JSON.
  const [tarball] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  if (!tarball) throw new Error(`npm pack gave no tarball: ${packed.output}`);
  packedFiles = tarball.files.map((file) => file.path);

  cpSync(join(root, 'tests/fixtures/client-consumer'), project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const typesNode = JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')).version;
  const install = await run(
    'npm',
    [
      'install',
      join(dir, tarball.filename),
      `@types/node@${typesNode}`,
      '--prefer-offline',
      // The client needs no native module built: better-sqlite3 is there for the server.
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
    ],
    { cwd: project },
  );
  expect(install.code, install.output).toBe(0);
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed atlas-chat package', () => {
  it('holds the compiled server, the client with its declarations, migrations and the web build, and no sources', () => {
    for (const file of [
      'dist/client/index.js',
      'dist/client/node.js',
      'dist/client/index.d.ts',
      'dist/server.js',
      'dist/server/routers/app-router.d.ts',
      'web/dist/index.html',
      'scripts/start.js',
    ]) {
      expect(packedFiles).toContain(file);
    }
    expect(packedFiles.some((file) => file.startsWith('drizzle/') && file.endsWith('.sql'))).toBe(true);
    expect(packedFiles.filter((file) => /^(server|client|tests|web\/src)\//.test(file))).toEqual([]);
  });

  it('type-checks with moduleResolution "bundler": the program compiles, a wrong procedure input does not', async () => {
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], { cwd: project });
    expect(errorLines(result.output), result.output).toEqual([
      expect.stringMatching(/^wrong-input\.ts\(5,\d+\): error TS2561: .*'txt' does not exist/),
    ]);
  }, 120_000);

  it('type-checks with moduleResolution "nodenext" the same way, and the compiled program signs up, joins, posts and receives its message live', async () => {
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], { cwd: project });
    expect(errorLines(result.output), result.output).toEqual([
      expect.stringMatching(/^wrong-input\.ts\(5,\d+\): error TS2561: .*'txt' does not exist/),
    ]);

    // tsc still emitted out/main.js (noEmitOnError is off); it runs on the installed package alone,
    // against the server as `npm start` runs it (the bundle), over HTTP and the WebSocket.
    const server = await startServerProcess({ RATE_LIMITS: 'off' });
    try {
      const program = await run(process.execPath, ['out/main.js'], {
        cwd: project,
        env: { ATLAS_URL: server.baseUrl },
      });
      expect(program.code, program.output).toBe(0);
      const printed = JSON.parse(program.output.trim().split('\n').at(-1) ?? '');
      expect(printed).toEqual({
        username: expect.stringMatching(/^pkg_\d+$/),
        namespaces: ['auth', 'rooms', 'messages', 'stats'],
        author: printed.username,
        text: `hello from ${printed.username}`,
      });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});
