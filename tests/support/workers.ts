import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { WorkerJob, WorkerReport } from './store-worker.ts';

export type { WorkerJob, WorkerPost, WorkerReport } from './store-worker.ts';

/**
 * Runs each job in its own Node process (tests/support/store-worker.ts), releases them together once
 * all have opened their stores, runs `afterGo` (e.g. release a lock they are queued on), and resolves
 * to their reports in job order.
 */
export async function runWorkers(
  jobs: WorkerJob[],
  afterGo: () => Promise<void> = async () => {},
): Promise<WorkerReport[]> {
  const children = jobs.map((job) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/store-worker.ts', JSON.stringify(job)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout });
    const output: string[] = [];
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else output.push(line);
    });
    const exited = new Promise<WorkerReport>((resolve, reject) => {
      child.on('exit', (code) => {
        const last = output.at(-1);
        if (code === 0 && last !== undefined) resolve(JSON.parse(last) as WorkerReport);
        else reject(new Error(`store worker exited with ${code}: ${stderr}`));
      });
    });
    exited.catch(() => {}); // awaited below; this only keeps an early death from being "unhandled"
    // A worker that dies before "ready" must fail the test, not hang it.
    const readyOrDead = Promise.race([ready, exited.then(() => {})]);
    return { child, readyOrDead, exited };
  });
  try {
    await Promise.all(children.map((worker) => worker.readyOrDead));
    for (const worker of children) worker.child.stdin.end('go\n');
    await afterGo();
    return await Promise.all(children.map((worker) => worker.exited));
  } finally {
    for (const worker of children) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  }
}
