import autocannon from 'autocannon';
import { runAsChild } from '../lib/load-child.ts';
import { type CpuCost, cpuPerOperation, measureIdleCpu, windowMeter } from '../lib/processes.ts';
import type { LatencySummary } from '../lib/stats.ts';

export interface HttpLoadConfig {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Connections, each with one request in flight at all times (closed loop, no pipelining). */
  concurrency: number;
  /** The server's idle CPU is read over this long before any load (see measureIdleCpu). */
  idleMs: number;
  warmupMs: number;
  durationMs: number;
  /** Read for the server's CPU use during the measured window. */
  serverPid: number;
}

export interface HttpLoadResult {
  /** Successful (2xx) responses completed inside the measured window. */
  completed: number;
  /** Non-2xx answers, socket errors and timeouts inside the measured window. */
  errors: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** The body of one request sent before the load, so the caller can check the server did the real work. */
  sample: string;
  firstErrorStatus: number | null;
  /** Server CPU per successful request over the measured window, idle subtracted. */
  cpu: CpuCost;
  serverCpu: number;
  /** The load generator's own CPU, in cores: near 1 means it, not the server, set the pace. */
  loadCpu: number;
  /** Other processes on the machine during the window, in cores. */
  otherCpu: number;
}

/**
 * Closed-loop HTTP load with autocannon (by Fastify's authors; see decision 011): `concurrency`
 * keep-alive connections, each sending its next request as soon as the previous answer is in.
 * Its own HTTP parser and pre-built request buffers drive several times the requests per core
 * that a node:http client does, so the one load core is not what limits the figure.
 */
async function run(config: HttpLoadConfig): Promise<HttpLoadResult> {
  // autocannon writes content-length itself (a second one makes the request malformed).
  const body = config.body === undefined ? undefined : Buffer.from(config.body);

  // One plain request first: its body proves the endpoint does the real work (and warms the route).
  const probe = await fetch(config.url, { method: config.method, headers: config.headers, body: config.body });
  const sample = (await probe.text()).slice(0, 100_000);
  const firstErrorStatus = probe.ok ? null : probe.status;
  const idleCores = await measureIdleCpu(config.serverPid, config.idleMs);

  const options = {
    url: config.url,
    method: config.method,
    headers: config.headers,
    body,
    connections: config.concurrency,
    pipelining: 1,
  };
  await autocannon({ ...options, duration: config.warmupMs / 1000 });
  const meter = windowMeter(config.serverPid);
  const result = await autocannon({ ...options, duration: config.durationMs / 1000 });
  const window = meter();
  const completed = result['2xx'];
  const { latency } = result;
  return {
    completed,
    errors: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    perSecond: completed / result.duration,
    latencyMs: { count: completed, p50: latency.p50, p99: latency.p99, p999: latency.p99_9, max: latency.max },
    sample,
    firstErrorStatus,
    cpu: cpuPerOperation(window, idleCores, completed),
    serverCpu: window.serverCpu,
    loadCpu: window.loadCpu,
    otherCpu: window.otherCpu,
  };
}

runAsChild(run);
