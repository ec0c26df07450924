import { Agent, request } from 'node:http';
import { runAsChild } from '../lib/load-child.ts';
import { windowMeter } from '../lib/processes.ts';
import { type LatencySummary, summarizeLatencies } from '../lib/stats.ts';

export interface HttpLoadConfig {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Requests kept in flight at all times (closed loop). */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Read for the server's CPU use during the measured window. */
  serverPid: number;
}

export interface HttpLoadResult {
  /** Successful (2xx) responses completed inside the measured window. */
  completed: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** The first response body, so the caller can check the server did the real work. */
  sample: string;
  firstErrorStatus: number | null;
  serverCpu: number;
  loadCpu: number;
  /** Other processes on the machine during the window, in cores. */
  otherCpu: number;
}

/**
 * Closed-loop HTTP load over keep-alive connections: `concurrency` workers each send a request,
 * wait for the whole response and send the next. Raw node:http keeps the client cheap, so the
 * one load core is not what limits the figure.
 */
async function run(config: HttpLoadConfig): Promise<HttpLoadResult> {
  const url = new URL(config.url);
  const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency });
  const body = config.body === undefined ? undefined : Buffer.from(config.body);
  const headers = { ...config.headers, ...(body ? { 'content-length': String(body.length) } : {}) };

  let measuring = false;
  let stopping = false;
  let completed = 0;
  let errors = 0;
  let sample = '';
  let firstErrorStatus: number | null = null;
  const latencies: number[] = [];

  const once = () =>
    new Promise<void>((resolveRequest) => {
      const started = performance.now();
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: config.method, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          const keepBody = sample === '' || status >= 300;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            if (keepBody) chunks.push(chunk);
          });
          res.once('end', () => {
            const ok = status >= 200 && status < 300;
            if (keepBody && ok && sample === '') sample = Buffer.concat(chunks).toString();
            if (!ok && firstErrorStatus === null) {
              firstErrorStatus = status;
              sample = Buffer.concat(chunks).toString();
            }
            if (measuring) {
              if (ok) {
                completed += 1;
                latencies.push(performance.now() - started);
              } else errors += 1;
            }
            resolveRequest();
          });
        },
      );
      req.once('socket', (socket) => socket.setNoDelay(true));
      req.once('error', () => {
        if (measuring) errors += 1;
        resolveRequest();
      });
      req.end(body);
    });

  const worker = async () => {
    while (!stopping) await once();
  };
  const workers = Array.from({ length: config.concurrency }, worker);

  await new Promise((resolveWait) => setTimeout(resolveWait, config.warmupMs));
  const cpu = windowMeter(config.serverPid);
  measuring = true;
  const start = performance.now();
  await new Promise((resolveWait) => setTimeout(resolveWait, config.durationMs));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const result = {
    completed,
    errors,
    seconds,
    perSecond: completed / seconds,
    latencyMs: summarizeLatencies(Float64Array.from(latencies)),
    ...cpu(),
  };
  stopping = true;
  await Promise.all(workers);
  agent.destroy();
  return { ...result, sample: sample.slice(0, 100_000), firstErrorStatus };
}

runAsChild(run);
