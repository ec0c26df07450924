import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type Role = 'server' | 'load';

/** Which core each role runs on; null cpus = unpinned. `description` goes into the output verbatim. */
export interface Pinning {
  server: string | null;
  load: string | null;
  description: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The server under test gets core 0 and every load generator core 1, so neither steals the
 * other's CPU. Without taskset or a second core we still run, unpinned, and say so.
 */
export function detectPinning(): Pinning {
  const cores = availableParallelism();
  if (!hasTaskset()) {
    return { server: null, load: null, description: `not pinned: taskset is missing (${cores} cores shared)` };
  }
  if (cores < 2) {
    return { server: null, load: null, description: 'not pinned: only one core, server and load share it' };
  }
  return {
    server: '0',
    load: '1',
    description: 'server (and SQLite baseline) pinned to core 0, load generators to core 1 (taskset -c)',
  };
}

const children = new Set<ChildProcess>();

/** Kills whatever is still running; called on exit and on Ctrl-C so no server outlives the bench. */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

let exitHooksInstalled = false;
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

export interface SpawnOptions {
  role: Role;
  pinning: Pinning;
  env?: Record<string, string>;
  /** Flags for node itself, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Arguments for the script. */
  scriptArgs?: string[];
  ipc?: boolean;
}

/**
 * Starts a script with node, prefixed with `taskset -c <core>` when pinning is available: a
 * TypeScript file through tsx (`node --import tsx file`, as `npm run dev` and the tests run the
 * server), a JavaScript file (the compiled server, as `npm start` runs it) with plain `node`. Its
 * stdout goes to our stderr so the bench's own stdout stays a clean report.
 */
export function spawnNodeScript(script: string, options: SpawnOptions): ChildProcess {
  installExitHooks();
  const cpus = options.role === 'server' ? options.pinning.server : options.pinning.load;
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const nodeCommand = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    ...loader,
    resolve(repoRoot, script),
    ...(options.scriptArgs ?? []),
  ];
  const [command, ...args] = cpus === null ? nodeCommand : ['taskset', '-c', cpus, ...nodeCommand];
  if (command === undefined) throw new Error('empty command');
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['ignore', 2, 2, 'ipc'] : ['ignore', 2, 2],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves once the child has exited; SIGTERM first (graceful close), SIGKILL if it lingers. */
export function stopChild(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

/** A port that was free a moment ago (the OS picks it); the child binds it right after. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no TCP port'));
        else resolvePort(address.port);
      });
    });
  });
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = request(url, { method: 'GET', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.once('error', () => resolveStatus(0));
    req.setTimeout(1000, () => req.destroy());
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/**
 * Polls /healthz until it answers 200; fails early when the child dies. Returns the milliseconds
 * from `startedAt` (performance.now() taken just before spawning) to the first 200.
 */
export async function waitForHealthy(
  child: ChildProcess,
  url: string,
  startedAt: number,
  timeoutMs = 30_000,
  pollMs = 10,
): Promise<number> {
  while (performance.now() - startedAt < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${url}: process exited (${child.exitCode ?? child.signalCode}) before it was healthy`);
    }
    if ((await getStatus(url)) === 200) return performance.now() - startedAt;
    await sleep(pollMs);
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  port: number;
  baseUrl: string;
  wsUrl: string;
  startupMs: number;
  stop(): Promise<void>;
}

/** Spawns an HTTP server script pinned to the server core and waits for its /healthz. */
export async function startServer(
  script: string,
  pinning: Pinning,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  scriptArgs: string[] = [],
): Promise<RunningServer> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawnNodeScript(script, {
    role: 'server',
    pinning,
    nodeArgs,
    scriptArgs,
    env: { HOST: '127.0.0.1', RATE_LIMITS: 'off', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopping = false;
  // A server that dies mid-measurement otherwise shows only as its /proc entry vanishing.
  child.once('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(`[bench] ${script} (pid ${child.pid}) exited unexpectedly: ${code ?? signal}\n`);
  });
  try {
    const startupMs = await waitForHealthy(child, `${baseUrl}/healthz`, startedAt);
    if (child.pid === undefined) throw new Error(`${script} has no pid`);
    return {
      child,
      pid: child.pid,
      port,
      baseUrl,
      wsUrl: `ws://127.0.0.1:${port}/api/trpc`,
      startupMs,
      stop: () => {
        stopping = true;
        return stopChild(child);
      },
    };
  } catch (error) {
    stopping = true;
    await stopChild(child);
    throw error;
  }
}

/** Resident set size of a process, from /proc/<pid>/status. */
export function readRssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Parent pid of every process, from /proc/<pid>/stat; processes that vanish meanwhile are skipped. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited between readdir and read
    }
  }
  return parents;
}

/**
 * RSS of a process and all its descendants (taskset execs into node, so the pid is node's own;
 * a launcher such as the tsx CLI runs the server in a child). Shared pages count once per process,
 * as `ps` shows them: the figure an operator sees.
 */
export function readTreeRssKiB(pid: number): number {
  const parents = parentPids();
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const member of tree) {
    try {
      total += readRssKiB(member);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds all processes on the machine have used so far (busy time over every core), from /proc/stat. */
export function readSystemCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND
  );
}

/**
 * CPU use over a window, as shares of one core (1 = one core busy all the time): the server's,
 * the load process's, and everything else on the machine (other processes skew the figures;
 * the report flags windows where they were busy). `serverCpuSeconds` and `seconds` are the raw
 * totals, for CPU per operation (see cpuPerOperation).
 */
export function windowMeter(serverPid: number | readonly number[]) {
  // Several server processes (the shared-mode bench): their CPU is summed.
  const pids = typeof serverPid === 'number' ? [serverPid] : serverPid;
  const readServer = () => pids.reduce((sum, pid) => sum + readCpuSeconds(pid), 0);
  const wallStart = performance.now();
  const server = readServer();
  const load = readCpuSeconds(process.pid);
  const system = readSystemCpuSeconds();
  return () => {
    const seconds = (performance.now() - wallStart) / 1000;
    const serverCpuSeconds = readServer() - server;
    const serverCpu = serverCpuSeconds / seconds;
    const loadCpu = (readCpuSeconds(process.pid) - load) / seconds;
    const otherCpu = Math.max(0, (readSystemCpuSeconds() - system) / seconds - serverCpu - loadCpu);
    return { serverCpu, loadCpu, otherCpu, serverCpuSeconds, seconds };
  };
}

/**
 * The server's CPU use while nobody asks it anything (timers, keep-alive pings, GC of what
 * start-up left), in cores: subtracted from every measured window so CPU per operation counts
 * only the work the operations caused. utime+stime move in 10 ms ticks, so a longer idle window
 * reads finer.
 */
export async function measureIdleCpu(serverPid: number | readonly number[], ms: number): Promise<number> {
  const meter = windowMeter(serverPid);
  await new Promise((resolveWait) => setTimeout(resolveWait, ms));
  return meter().serverCpu;
}

export interface CpuCost {
  /** Server utime+stime over the window, in seconds, idle not yet subtracted. */
  cpuSeconds: number;
  /** Wall-clock length of the window. */
  seconds: number;
  /** The server's idle CPU use measured before, in cores. */
  idleCores: number;
  operations: number;
  /** (cpuSeconds − idleCores × seconds) / operations, in microseconds; NaN with no operations. */
  microsPerOp: number;
}

/** Server CPU per operation over a measured window, the server's idle use subtracted. */
export function cpuPerOperation(
  window: { serverCpuSeconds: number; seconds: number },
  idleCores: number,
  operations: number,
): CpuCost {
  const busy = Math.max(0, window.serverCpuSeconds - idleCores * window.seconds);
  return {
    cpuSeconds: window.serverCpuSeconds,
    seconds: window.seconds,
    idleCores,
    operations,
    microsPerOp: operations > 0 ? (busy / operations) * 1e6 : Number.NaN,
  };
}
