import { join } from 'node:path';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { BenchDatabases } from '../lib/database.ts';
import { runInChild } from '../lib/load-process.ts';
import { type Pinning, type RunningServer, startServer } from '../lib/processes.ts';
import { cpuColumns, formatNumber, loadBoundNotes, noiseNotes } from '../lib/report.ts';
import { seedDatabase } from '../lib/seed.ts';
import type { FanoutConfig, FanoutResult } from '../load/fanout-load.ts';

/**
 * Issue 11 part 6: several instances in shared mode (PostgreSQL + Redis). Only with
 * `--only multi`: it needs a running PostgreSQL and Redis, which the default run does not.
 *
 * The same fan-out load as the fan-out scenario (bench/load/fanout-load.ts), posts always on
 * instance A, with subscribers
 *  - all on one instance without Redis (the in-process bus; the reference),
 *  - all on B of a shared pair (every delivery crosses Redis: the cross-instance latency),
 *  - all on A of the pair (shared mode, but the subscriber is where the post was made),
 *  - half on A and half on B.
 * Every configuration has its own room, so one run's messages never reach the next.
 */
const ROOMS = { one: 'multi-one', cross: 'multi-cross', local: 'multi-local', split: 'multi-split' } as const;
const TEXT_LENGTH = 80;
const REDIS_URL = 'redis://127.0.0.1:6379';

interface MultiSizes {
  subscribers: number;
  users: number;
  window: number;
  warmupMs: number;
  saturationMs: number;
  latencyMs: number;
  cost: { posts: number; rate: number; idleMs: number };
}

// Small enough for the whole scenario to take a few minutes on 2 cores.
const fullMulti: MultiSizes = {
  subscribers: 400,
  users: 100,
  window: 32,
  warmupMs: 1000,
  saturationMs: 5000,
  latencyMs: 5000,
  cost: { posts: 150, rate: 30, idleMs: 1500 },
};
const quickMulti: MultiSizes = {
  subscribers: 100,
  users: 20,
  window: 32,
  warmupMs: 300,
  saturationMs: 1000,
  latencyMs: 1000,
  cost: { posts: 30, rate: 30, idleMs: 300 },
};

function fanoutLoad(pinning: Pinning, config: FanoutConfig): Promise<FanoutResult> {
  return runInChild<FanoutResult>('bench/load/fanout-load.ts', config, pinning);
}

function check(result: FanoutResult, label: string): void {
  if (result.errors.length > 0) throw new Error(`${label}: ${result.errors.join('; ')}`);
  if (result.saturation.delivered === 0) throw new Error(`${label}: nothing delivered`);
}

const latencyText = (result: FanoutResult) => {
  const { p50, p99 } = result.latency.latencyMs;
  return `p50 ${formatNumber(p50)} / p99 ${formatNumber(p99)} ms at ${formatNumber(result.latency.rate)} posts/s`;
};

const lossless = (result: FanoutResult) =>
  result.latency.deliveredRatio === 1 && result.duplicates === 0 && result.outOfOrder === 0;

export async function runMultiInstance(context: BenchContext): Promise<ScenarioResult> {
  const sizes = context.quick ? quickMulti : fullMulti;
  const seed = await seedDatabase(join(context.workDir, 'multi.db'), {
    users: sizes.users,
    room: ROOMS.one,
    messages: 0,
    extraRooms: [ROOMS.cross, ROOMS.local, ROOMS.split],
  });
  const tokens = Array.from({ length: sizes.subscribers }, (_, index) => {
    const account = seed.accounts[index % sizes.users];
    if (!account) throw new Error(`no seeded account ${index}`);
    return account.token;
  });
  const poster = seed.accounts[0]?.token ?? '';
  // Always PostgreSQL, whatever --database says: shared mode needs it.
  const databases = new BenchDatabases('postgres', context.databases.adminUrl);
  const prefix = `atlas-bench-${process.pid}:`;
  const common = {
    tokens,
    joinStorm: null,
    connectConcurrency: 50,
    window: sizes.window,
    warmupMs: sizes.warmupMs,
    saturationMs: sizes.saturationMs,
    latencyMs: sizes.latencyMs,
    drainTimeoutMs: 10_000,
    quietMs: 500,
    textLength: TEXT_LENGTH,
    cost: sizes.cost,
  };
  const load = async (
    label: string,
    room: string,
    poster_: RunningServer,
    subscribers: RunningServer[],
    pids: number[],
  ) => {
    context.log(`multi: ${label}, ${sizes.subscribers} subscribers`);
    const result = await fanoutLoad(context.pinning, {
      ...common,
      room,
      wsUrl: subscribers[0]?.wsUrl ?? '',
      wsUrls: subscribers.map((server) => server.wsUrl),
      postUrl: `${poster_.baseUrl}/api/trpc/messages.post`,
      postHeaders: { authorization: `Bearer ${poster}` },
      serverPid: pids,
    });
    check(result, label);
    return result;
  };

  let one: FanoutResult;
  let cross: FanoutResult;
  let local: FanoutResult;
  let split: FanoutResult;
  try {
    // One instance on PostgreSQL without Redis: the in-process bus.
    const single = await startServer(
      'server/main.ts',
      context.pinning,
      await databases.serverEnv(seed.path),
      context.serverNodeArgs('multi-one'),
    );
    try {
      one = await load('one instance, no Redis', ROOMS.one, single, [single], [single.pid]);
    } finally {
      await single.stop();
    }

    // Two instances on one fresh database and one Redis prefix. Both on the server core.
    const shared = { ...(await databases.serverEnv(seed.path)), REDIS_URL, REDIS_PREFIX: prefix };
    const a = await startServer('server/main.ts', context.pinning, shared, context.serverNodeArgs('multi-a'));
    let b: RunningServer | undefined;
    try {
      b = await startServer('server/main.ts', context.pinning, shared, context.serverNodeArgs('multi-b'));
      const pids = [a.pid, b.pid];
      cross = await load('shared pair, post on A, subscribers on B', ROOMS.cross, a, [b], pids);
      local = await load('shared pair, post on A, subscribers on A', ROOMS.local, a, [a], pids);
      split = await load('shared pair, post on A, subscribers half on A, half on B', ROOMS.split, a, [a, b], pids);
    } finally {
      await b?.stop();
      await a.stop();
    }
  } finally {
    await databases.dropAll();
  }

  const n = sizes.subscribers;
  const rows: Row[] = [
    {
      scenario: 'multi',
      figure: `latency at half saturation, post on A, ${n} subscribers on B (vs one instance)`,
      value: cross.latency.latencyMs.p99,
      unit: 'ms p99',
      display: latencyText(cross),
      baselineLabel: 'one instance, no Redis',
      baseline: one.latency.latencyMs.p99,
      baselineDisplay: latencyText(one),
      ratio: cross.latency.latencyMs.p99 / one.latency.latencyMs.p99,
      target: null,
      met: null,
    },
    {
      scenario: 'multi',
      figure: `latency at half saturation, post on A, ${n} subscribers on A of the shared pair`,
      value: local.latency.latencyMs.p99,
      unit: 'ms p99',
      display: latencyText(local),
      baselineLabel: 'one instance, no Redis',
      baseline: one.latency.latencyMs.p99,
      baselineDisplay: latencyText(one),
      ratio: local.latency.latencyMs.p99 / one.latency.latencyMs.p99,
      target: null,
      met: null,
    },
    {
      scenario: 'multi',
      figure: `delivered at saturation, ${n} subscribers half on A, half on B`,
      value: split.saturation.deliveredPerSecond,
      unit: 'msg/s',
      baselineLabel: 'one instance, no Redis (msg/s)',
      baseline: one.saturation.deliveredPerSecond,
      ratio: split.saturation.deliveredPerSecond / one.saturation.deliveredPerSecond,
      target: null,
      met: null,
      cpu: cpuColumns(split.saturationCost, one.saturationCost),
    },
    {
      scenario: 'multi',
      figure: `delivered at saturation, ${n} subscribers all on B`,
      value: cross.saturation.deliveredPerSecond,
      unit: 'msg/s',
      baselineLabel: 'one instance, no Redis (msg/s)',
      baseline: one.saturation.deliveredPerSecond,
      ratio: cross.saturation.deliveredPerSecond / one.saturation.deliveredPerSecond,
      target: null,
      met: null,
      cpu: cpuColumns(cross.saturationCost, one.saturationCost),
    },
    ...(
      [
        ['half on A, half on B', split],
        ['all on B', cross],
        ['all on A', local],
      ] as const
    ).map(
      ([where, result]): Row => ({
        scenario: 'multi',
        figure: `server CPU per delivery (both servers), subscribers ${where}, ${sizes.cost.posts} posts at ${sizes.cost.rate}/s`,
        value: result.cost.cpu.microsPerOp,
        unit: 'µs',
        display: `${formatNumber(result.cost.cpu.microsPerOp)} µs (${result.cost.delivered} / ${result.cost.expected})`,
        baselineLabel: 'one instance, no Redis',
        baseline: one.cost.cpu.microsPerOp,
        baselineDisplay: `${formatNumber(one.cost.cpu.microsPerOp)} µs (${one.cost.delivered} / ${one.cost.expected})`,
        ratio: one.cost.cpu.microsPerOp / result.cost.cpu.microsPerOp,
        target: null,
        met: null,
        cpu: cpuColumns(result.cost.cpu, one.cost.cpu),
      }),
    ),
    {
      scenario: 'multi',
      figure: 'delivered / expected at half saturation, in order, no duplicates (one / B / A / split)',
      value: Math.min(cross.latency.deliveredRatio, local.latency.deliveredRatio, split.latency.deliveredRatio),
      unit: '',
      display: [one, cross, local, split]
        .map((result) => `${result.latency.delivered}/${result.latency.expected}`)
        .join(', '),
      baselineLabel: 'one instance',
      baseline: one.latency.deliveredRatio,
      ratio: Math.min(cross.latency.deliveredRatio, local.latency.deliveredRatio, split.latency.deliveredRatio),
      target: '100%, in order, no duplicates',
      met: [one, cross, local, split].every(lossless),
    },
  ];
  const notes = [
    `${context.pinning.description}; both shared-mode servers run on the server core, so two instances share one core; PostgreSQL and Redis are not pinned and compete with all of them (their CPU shows as "other", not in the server CPU figures)`,
    `server CPU per delivery sums both servers' utime+stime (idle subtracted); for the one-instance reference it is that one process`,
    `every server here runs on PostgreSQL (a fresh database per server set, at --database-url), whatever --database says: shared mode needs it; each configuration posts at half its own saturation for latency`,
    `other CPU (PostgreSQL, Redis, the rest) at saturation: one ${formatNumber(one.saturation.otherCpu * 100)}%, all on B ${formatNumber(cross.saturation.otherCpu * 100)}%, all on A ${formatNumber(local.saturation.otherCpu * 100)}%, split ${formatNumber(split.saturation.otherCpu * 100)}% of a core`,
    `posts only (no subscriber), server CPU per post: one ${formatNumber(one.cost.postsOnly.microsPerOp)} µs, shared pair ${formatNumber(split.cost.postsOnly.microsPerOp)} µs`,
    ...loadBoundNotes({
      'one instance saturation': one.saturation,
      'all on B saturation': cross.saturation,
      'all on A saturation': local.saturation,
      'split saturation': split.saturation,
    }),
    ...noiseNotes({
      'one instance cost phase': one.cost,
      'all on B cost phase': cross.cost,
      'split cost phase': split.cost,
    }),
  ];
  return {
    rows,
    details: { subscribers: n, users: sizes.users, redisPrefix: prefix, one, cross, local, split },
    notes,
  };
}
