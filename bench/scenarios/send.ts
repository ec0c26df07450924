import { join } from 'node:path';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { runInChild } from '../lib/load-process.ts';
import { startServer } from '../lib/processes.ts';
import { cpuColumns, formatNumber, loadBoundNotes, noiseNotes } from '../lib/report.ts';
import { seedDatabase } from '../lib/seed.ts';
import type { HttpLoadConfig, HttpLoadResult } from '../load/http-load.ts';
import type { PgLoopConfig, PgLoopResult } from '../pg-insert-loop.ts';
import type { SqliteLoopConfig, SqliteLoopResult } from '../sqlite-insert-loop.ts';

const ROOM = 'bench';
/** A typical chat line. */
const TEXT = 'Deploy finished on staging, smoke tests are green; shipping to production after lunch.';
const SEND_TARGET = 0.7;

function expectSample(result: HttpLoadResult, what: string, needle: string): void {
  if (result.completed === 0 || !result.sample.includes(needle)) {
    throw new Error(
      `${what}: ${result.completed} ok, ${result.errors} failed (first error ${result.firstErrorStatus}): ${result.sample.slice(0, 300)}`,
    );
  }
}

/**
 * messages.post throughput at a fixed concurrency, over tRPC HTTP and over REST, against the
 * same HTTP stack doing nothing and against a bare SQLite insert loop (the fsync ceiling).
 */
export async function runSend(context: BenchContext): Promise<ScenarioResult> {
  const { concurrency, idleMs, warmupMs, durationMs } = context.sizes.send;
  const seed = await seedDatabase(join(context.workDir, 'send.db'), { users: 1, room: ROOM, messages: 0 });
  const token = seed.accounts[0]?.token ?? '';
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const load = (url: string, body: string, serverPid: number) =>
    runInChild<HttpLoadResult>(
      'bench/load/http-load.ts',
      {
        url,
        method: 'POST',
        headers,
        body,
        concurrency,
        idleMs,
        warmupMs,
        durationMs,
        serverPid,
      } satisfies HttpLoadConfig,
      context.pinning,
    );

  context.log(`send: atlas-chat, ${concurrency} posts in flight, ${durationMs} ms per transport`);
  const atlas = await startServer(
    'server/main.ts',
    context.pinning,
    await context.databases.serverEnv(seed.path),
    context.serverNodeArgs('send-atlas'),
  );
  let trpc: HttpLoadResult;
  let rest: HttpLoadResult;
  try {
    trpc = await load(`${atlas.baseUrl}/api/trpc/messages.post`, JSON.stringify({ room: ROOM, text: TEXT }), atlas.pid);
    expectSample(trpc, 'messages.post over tRPC', '"seq":');
    rest = await load(`${atlas.baseUrl}/api/rooms/${ROOM}/messages`, JSON.stringify({ text: TEXT }), atlas.pid);
    expectSample(rest, 'POST /api/rooms/{room}/messages', '"seq":');
  } finally {
    await atlas.stop();
  }

  context.log('send: bare tRPC mutation on the same stack');
  const bare = await startServer(
    'bench/baseline-trpc-server.ts',
    context.pinning,
    {},
    context.serverNodeArgs('send-baseline'),
  );
  let noop: HttpLoadResult;
  let plain: HttpLoadResult;
  try {
    noop = await load(`${bare.baseUrl}/api/trpc/noop`, JSON.stringify({ room: ROOM, text: TEXT }), bare.pid);
    expectSample(noop, 'bare tRPC mutation', '"ok":true');
    // For reference only: a plain Fastify route doing nothing, to show tRPC's own share.
    plain = await load(`${bare.baseUrl}/plain/noop`, JSON.stringify({ room: ROOM, text: TEXT }), bare.pid);
    expectSample(plain, 'plain Fastify route', '"ok":true');
  } finally {
    await bare.stop();
  }

  context.log('send: plain better-sqlite3 insert loop, one transaction per insert');
  const sqlite = await runInChild<SqliteLoopResult>(
    'bench/sqlite-insert-loop.ts',
    { warmupMs, durationMs, text: TEXT } satisfies SqliteLoopConfig,
    context.pinning,
    'server',
  );

  let postgres: PgLoopResult | undefined;
  if (context.databases.backend === 'postgres') {
    context.log('send: plain pg insert loop, one statement and one commit per insert');
    postgres = await runInChild<PgLoopResult>(
      'bench/pg-insert-loop.ts',
      { warmupMs, durationMs, text: TEXT, adminUrl: context.databases.adminUrl } satisfies PgLoopConfig,
      context.pinning,
      'load',
    );
  }

  const row = (
    figure: string,
    result: HttpLoadResult,
    baselineLabel: string,
    baseline: number,
    target: boolean,
    baselineCpu?: HttpLoadResult,
  ) => {
    const ratio = result.perSecond / baseline;
    return {
      scenario: 'send',
      figure,
      value: result.perSecond,
      unit: 'msg/s',
      baselineLabel,
      baseline,
      ratio,
      target: target ? `≥ ${SEND_TARGET * 100}%` : null,
      met: target ? ratio >= SEND_TARGET : null,
      ...(baselineCpu ? { cpu: cpuColumns(result.cpu, baselineCpu.cpu) } : {}),
    } satisfies Row;
  };
  const bareLabel = 'bare tRPC mutation (req/s)';
  const sqliteLabel = 'SQLite insert loop (inserts/s)';
  return {
    rows: [
      row('messages.post over tRPC HTTP', trpc, bareLabel, noop.perSecond, true, noop),
      row('messages.post over REST', rest, bareLabel, noop.perSecond, true, noop),
      row('messages.post over tRPC HTTP', trpc, sqliteLabel, sqlite.perSecond, false),
      row('messages.post over REST', rest, sqliteLabel, sqlite.perSecond, false),
      ...(postgres
        ? [
            row('messages.post over tRPC HTTP', trpc, 'pg insert loop (inserts/s)', postgres.perSecond, false),
            row('messages.post over REST', rest, 'pg insert loop (inserts/s)', postgres.perSecond, false),
          ]
        : []),
    ],
    details: {
      concurrency,
      durationMs,
      trpc,
      rest,
      bareMutation: noop,
      plainRoute: plain,
      sqliteLoop: sqlite,
      pgLoop: postgres,
    },
    notes: [
      `server CPU per request (idle subtracted): tRPC post ${formatNumber(trpc.cpu.microsPerOp)} µs, REST post ${formatNumber(rest.cpu.microsPerOp)} µs, bare tRPC mutation ${formatNumber(noop.cpu.microsPerOp)} µs; server core busy ${formatNumber(trpc.serverCpu * 100)}% / ${formatNumber(rest.serverCpu * 100)}% / ${formatNumber(noop.serverCpu * 100)}%, autocannon's core ${formatNumber(trpc.loadCpu * 100)}% / ${formatNumber(rest.loadCpu * 100)}% / ${formatNumber(noop.loadCpu * 100)}%`,
      `for reference, a plain Fastify POST route doing nothing (no tRPC): ${formatNumber(plain.cpu.microsPerOp)} µs of server CPU, ${formatNumber(plain.perSecond)} req/s`,
      ...loadBoundNotes({ 'tRPC post': trpc, 'REST post': rest, 'bare mutation': noop }),
      ...noiseNotes({ 'tRPC post': trpc, 'REST post': rest, 'bare mutation': noop }),
    ],
  };
}
