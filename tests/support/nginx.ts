import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { freePort } from './server-process.ts';

export const NGINX_PATH = process.env.NGINX_PATH || '/usr/sbin/nginx';
const installed = existsSync(NGINX_PATH);
const inCi = process.env.CI === 'true';

/** `describe` for tests through nginx: skipped locally without it, failing (not skipped) in CI. */
export const describeNginx = installed || inCi ? describe : describe.skip;
if (!installed && !inCi) {
  console.warn(`Skipping nginx tests: no nginx at ${NGINX_PATH}. Install it (Debian: apt-get install nginx).`);
}

export interface RunningNginx {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs deploy/nginx.conf in the foreground on a free port, its upstream pointed at `upstreams`
 * (host:port), with every path nginx writes under a temporary directory.
 */
export async function startNginx(upstreams: string[]): Promise<RunningNginx> {
  const template = readFileSync(join(import.meta.dirname, '../../deploy/nginx.conf'), 'utf8');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'atlas-nginx-'));
  for (const sub of ['logs', 'tmp']) mkdirSync(join(dir, sub));
  const servers = upstreams.map((address) => `    server ${address};`).join('\n');
  const config = template
    .replace(/ {4}server app1:3000;\n {4}server app2:3000;/, servers)
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace(
      'worker_processes auto;',
      `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log warn;`,
    )
    .replace(
      'http {',
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/tmp/body;\n  proxy_temp_path ${dir}/tmp/proxy;\n  fastcgi_temp_path ${dir}/tmp/fastcgi;\n  uwsgi_temp_path ${dir}/tmp/uwsgi;\n  scgi_temp_path ${dir}/tmp/scgi;`,
    );
  if (!config.includes(servers))
    throw new Error('deploy/nginx.conf no longer has the upstream lines this test replaces');
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, config);
  const child: ChildProcess = spawn(NGINX_PATH, ['-p', dir, '-c', path, '-g', 'daemon off;'], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${baseUrl}/healthz`);
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('nginx did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    baseUrl,
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
