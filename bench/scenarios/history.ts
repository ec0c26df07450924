import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { runInChild } from '../lib/load-process.ts';
import { startServer } from '../lib/processes.ts';
import { cpuColumns, formatNumber, loadBoundNotes, noiseNotes } from '../lib/report.ts';
import type { HttpLoadConfig, HttpLoadResult } from '../load/http-load.ts';

const PAGE = 50;
const HISTORY_TARGET = 0.6;
const trpcData = (body: unknown) => (body as { result?: { data?: unknown } }).result?.data;

/** The page must be real: PAGE messages of the seeded room and more to come. Returns it. */
function expectPage(result: HttpLoadResult, what: string, unwrap: (body: unknown) => unknown): unknown {
  let page: { messages?: unknown[]; hasMore?: boolean } | undefined;
  try {
    page = unwrap(JSON.parse(result.sample)) as typeof page;
  } catch {
    page = undefined;
  }
  if (result.completed === 0 || page?.messages?.length !== PAGE || page.hasMore !== true) {
    throw new Error(`${what}: ${result.completed} ok, ${result.errors} failed: ${result.sample.slice(0, 300)}`);
  }
  return page;
}

/**
 * GET a page of 50 from a room of many messages, against a bare query for the same rows behind
 * a tRPC query on the same stack (bench/baseline-trpc-server.ts `page`).
 */
export async function runHistory(context: BenchContext): Promise<ScenarioResult> {
  const { concurrency, idleMs, warmupMs, durationMs, messages } = context.sizes.history;
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
        idleMs,
        warmupMs,
        durationMs,
        serverPid,
      } satisfies HttpLoadConfig,
      context.pinning,
    );

  context.log(`history: atlas-chat, pages of ${PAGE} from a room of ${messages} messages`);
  const atlasEnv = await context.databases.serverEnv(seed.path);
  const atlas = await startServer('server/main.ts', context.pinning, atlasEnv, context.serverNodeArgs('history-atlas'));
  let rest: HttpLoadResult;
  let trpc: HttpLoadResult;
  let atlasPage: unknown;
  const input = encodeURIComponent(JSON.stringify({ room: seed.room, limit: PAGE }));
  try {
    rest = await load(`${atlas.baseUrl}/api/rooms/${seed.room}/messages?limit=${PAGE}`, atlas.pid);
    expectPage(rest, 'GET /api/rooms/{room}/messages', (body) => body);
    trpc = await load(`${atlas.baseUrl}/api/trpc/messages.list?input=${input}`, atlas.pid);
    atlasPage = expectPage(trpc, 'messages.list over tRPC', trpcData);
  } finally {
    await atlas.stop();
  }

  context.log('history: bare query for the same page behind a tRPC query on the same stack');
  const bare = await startServer(
    'bench/baseline-trpc-server.ts',
    context.pinning,
    // The same kind of query on the same backend: on PostgreSQL, the database the atlas-chat
    // server just read (a copy of the seed), with `pg` prepared statements.
    atlasEnv.DATABASE_URL ? { BENCH_HISTORY_DATABASE_URL: atlasEnv.DATABASE_URL } : { BENCH_HISTORY_DB: seed.path },
    context.serverNodeArgs('history-baseline'),
  );
  let query: HttpLoadResult;
  let plain: HttpLoadResult;
  try {
    query = await load(`${bare.baseUrl}/api/trpc/page?input=${input}`, bare.pid);
    const barePage = expectPage(query, 'bare page query', trpcData);
    // Fair only if it sends exactly what messages.list sends.
    if (JSON.stringify(barePage) !== JSON.stringify(atlasPage)) {
      throw new Error(`the bare query's page differs from messages.list's: ${query.sample.slice(0, 300)}`);
    }
    // For reference only: the same page from a plain Fastify route, to show tRPC's own share.
    plain = await load(`${bare.baseUrl}/plain/rooms/${seed.room}/messages?limit=${PAGE}`, bare.pid);
    const plainPage = expectPage(plain, 'plain Fastify page', (body) => body);
    if (JSON.stringify(plainPage) !== JSON.stringify(atlasPage)) {
      throw new Error(`the plain route's page differs from messages.list's: ${plain.sample.slice(0, 300)}`);
    }
  } finally {
    await bare.stop();
  }

  const row = (figure: string, result: HttpLoadResult): Row => {
    const ratio = result.perSecond / query.perSecond;
    return {
      scenario: 'history',
      figure,
      value: result.perSecond,
      unit: 'req/s',
      baselineLabel: `bare query, same ${PAGE} rows over tRPC (req/s)`,
      baseline: query.perSecond,
      ratio,
      target: `≥ ${HISTORY_TARGET * 100}%`,
      met: ratio >= HISTORY_TARGET,
      cpu: cpuColumns(result.cpu, query.cpu),
    };
  };
  return {
    rows: [
      row(`GET /api/rooms/{room}/messages?limit=${PAGE}, ${messages} in room`, rest),
      row(`messages.list over tRPC, limit ${PAGE}`, trpc),
    ],
    details: { concurrency, durationMs, messages, rest, trpc, bareQuery: query, plainRoute: plain },
    notes: [
      `server CPU per page (idle subtracted): REST ${formatNumber(rest.cpu.microsPerOp)} µs, tRPC ${formatNumber(trpc.cpu.microsPerOp)} µs, bare query ${formatNumber(query.cpu.microsPerOp)} µs; autocannon's core ${formatNumber(rest.loadCpu * 100)}% / ${formatNumber(trpc.loadCpu * 100)}% / ${formatNumber(query.loadCpu * 100)}%`,
      `for reference, the same page from a plain Fastify route (no tRPC): ${formatNumber(plain.cpu.microsPerOp)} µs of server CPU, ${formatNumber(plain.perSecond)} req/s`,
      ...loadBoundNotes({ REST: rest, tRPC: trpc, 'bare query': query }),
      ...noiseNotes({ REST: rest, tRPC: trpc, 'bare query': query }),
    ],
  };
}
