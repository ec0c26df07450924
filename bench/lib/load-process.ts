import { type Pinning, type Role, spawnNodeScript, stopChild } from './processes.ts';

type ChildMessage = { type: 'result'; result: unknown } | { type: 'error'; message: string };

/**
 * Runs a load script (see load-child.ts) in its own process pinned to the load core (or, for
 * stand-ins for the server such as the SQLite loop, the server core): sends it its config over
 * IPC and resolves with the result it sends back. The process is always gone when this settles.
 */
export async function runInChild<R>(
  script: string,
  config: unknown,
  pinning: Pinning,
  role: Role = 'load',
  timeoutMs = 180_000,
): Promise<R> {
  const child = spawnNodeScript(script, { role, pinning, ipc: true });
  try {
    return await new Promise<R>((resolveResult, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} took longer than ${timeoutMs} ms`)), timeoutMs);
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'result') resolveResult(message.result as R);
        else reject(new Error(`${script}: ${message.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code ?? signal}) without a result`));
      });
      child.once('error', reject);
      child.send({ type: 'config', config });
    });
  } finally {
    await stopChild(child);
  }
}
