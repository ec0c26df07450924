import { runAsChild } from '../lib/load-child.ts';
import { readRssKiB } from '../lib/processes.ts';
import { inBatches, openTrpcSocket, type TrpcFrame, type TrpcSocket } from '../lib/trpc-ws.ts';

export interface IdleConfig {
  wsUrl: string;
  tokens: string[];
  /** Opened (and kept) before the first reading, so code paths are warm and lazily made state exists. */
  warmConnections: number;
  connections: number;
  connectConcurrency: number;
  /** Time for the server to settle before each RSS reading. */
  settleMs: number;
  serverPid: number;
}

export interface IdleResult {
  connections: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perConnectionKiB: number;
  connectMs: number;
  failures: number;
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/**
 * Opens authenticated WebSocket connections and leaves them idle. Each one sends its token as
 * connectionParams and makes one query (auth.me), so the server has really authenticated it
 * before its memory is read; then nothing more is sent except PONGs to the server's PINGs.
 */
async function run(config: IdleConfig): Promise<IdleResult> {
  let failures = 0;
  const open = async (index: number): Promise<TrpcSocket | null> => {
    const token = config.tokens[index % config.tokens.length];
    if (token === undefined) throw new Error('no tokens');
    let answered: (frame: TrpcFrame) => void = () => {};
    const answer = new Promise<TrpcFrame>((resolveAnswer) => {
      answered = resolveAnswer;
    });
    try {
      const socket = await openTrpcSocket({
        url: config.wsUrl,
        token,
        onFrame: (text) => answered(JSON.parse(text) as TrpcFrame),
      });
      socket.send({ id: 1, method: 'query', params: { path: 'auth.me' } });
      const frame = await answer;
      if (frame.error || frame.result?.type !== 'data') {
        failures += 1;
        socket.close();
        return null;
      }
      return socket;
    } catch {
      failures += 1;
      return null;
    }
  };
  const openMany = (count: number) =>
    inBatches(
      Array.from({ length: count }, (_, index) => index),
      config.connectConcurrency,
      open,
    );

  const warm = await openMany(config.warmConnections);
  await sleep(config.settleMs);
  const rssBeforeKiB = readRssKiB(config.serverPid);
  const connectStart = performance.now();
  const measured = await openMany(config.connections);
  const connectMs = performance.now() - connectStart;
  await sleep(config.settleMs);
  const rssAfterKiB = readRssKiB(config.serverPid);
  const opened = measured.filter((socket) => socket !== null).length;
  for (const socket of [...warm, ...measured]) socket?.close();
  return {
    connections: opened,
    rssBeforeKiB,
    rssAfterKiB,
    perConnectionKiB: opened > 0 ? (rssAfterKiB - rssBeforeKiB) / opened : Number.NaN,
    connectMs,
    failures,
  };
}

runAsChild(run);
