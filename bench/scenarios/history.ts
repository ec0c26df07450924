import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { runInChild } from '../lib/load-process.ts';
import { startServer } from '../lib/processes.ts';
import { noiseNotes } from '../lib/report.ts';
import type { HttpLoadConfig, HttpLoadResult } from '../load/http-load.ts';

const PAGE = 50;

/** The page must be real: PAGE messages of the seeded room and more to come. */
function expectPage(result: HttpLoadResult, what: string, unwrap: (body: unknown) => unknown): void {
  let page: { messages?: unknown[]; hasMore?: boolean } | undefined;
  try {
    page = unwrap(JSON.parse(result.sample)) as typeof page;
  } catch {
    page = undefined;
  }
  if (result.completed === 0 || page?.messages?.length !== PAGE || page.hasMore !== true) {
    throw new Error(`${what}: ${result.completed} ok, ${result.errors} failed: ${result.sample.slice(0, 300)}`);
  }
}

/** GET a page of 50 from a room of many messages, against a bare tRPC query on the same stack. */
export async function runHistory(context: BenchContext): Promise<ScenarioResult> {
  const { concurrency, warmupMs, durationMs, messages } = context.sizes.history;
  const seed = await context.historyDatabase();
  const token = seed.accounts[0]?.token ?? '';
  const load = (url: string, serverPid: number) =>
    runInChild<HttpLoadResult>(
      'bench/load/http-load.ts',
      {
        url,
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        concurrency,
        warmupMs,
        durationMs,
        serverPid,
      } satisfies HttpLoadConfig,
      context.pinning,
    );

  context.log(`history: atlas-chat, pages of ${PAGE} from a room of ${messages} messages`);
  const atlas = await startServer(
    'server/main.ts',
    context.pinning,
    await context.databases.serverEnv(seed.path),
    context.serverNodeArgs,
  );
  let rest: HttpLoadResult;
  let trpc: HttpLoadResult;
  try {
    rest = await load(`${atlas.baseUrl}/api/rooms/${seed.room}/messages?limit=${PAGE}`, atlas.pid);
    expectPage(rest, 'GET /api/rooms/{room}/messages', (body) => body);
    const input = encodeURIComponent(JSON.stringify({ room: seed.room, limit: PAGE }));
    trpc = await load(`${atlas.baseUrl}/api/trpc/messages.list?input=${input}`, atlas.pid);
    expectPage(trpc, 'messages.list over tRPC', (body) => (body as { result?: { data?: unknown } }).result?.data);
  } finally {
    await atlas.stop();
  }

  context.log('history: bare tRPC query on the same stack');
  const bare = await startServer('bench/baseline-trpc-server.ts', context.pinning, {});
  let ping: HttpLoadResult;
  try {
    ping = await load(`${bare.baseUrl}/api/trpc/ping`, bare.pid);
    if (ping.completed === 0) throw new Error(`bare tRPC query failed: ${ping.sample.slice(0, 300)}`);
  } finally {
    await bare.stop();
  }

  const row = (figure: string, result: HttpLoadResult): Row => ({
    scenario: 'history',
    figure,
    value: result.perSecond,
    unit: 'req/s',
    baselineLabel: 'bare tRPC query (req/s)',
    baseline: ping.perSecond,
    ratio: result.perSecond / ping.perSecond,
    target: null,
    met: null,
  });
  return {
    rows: [
      row(`GET /api/rooms/{room}/messages?limit=${PAGE}, ${messages} in room`, rest),
      row(`messages.list over tRPC, limit ${PAGE}`, trpc),
    ],
    details: { concurrency, durationMs, messages, rest, trpc, bareQuery: ping },
    notes: noiseNotes({ REST: rest, tRPC: trpc, 'bare query': ping }),
  };
}
