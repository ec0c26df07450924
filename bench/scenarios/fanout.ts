import { join } from 'node:path';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { runInChild } from '../lib/load-process.ts';
import { type Pinning, startServer } from '../lib/processes.ts';
import { cpuColumns, formatNumber, loadBoundNotes, noiseNotes } from '../lib/report.ts';
import { seedDatabase } from '../lib/seed.ts';
import type { FanoutConfig, FanoutResult, SubscribeStats } from '../load/fanout-load.ts';

const ROOM = 'fanout';
const STORM_ROOM = 'join-storm';
const FANOUT_TARGET = 0.6;
/** Issue 14: at most 1.25× raw ws's server CPU per delivered message. */
const COST_TARGET = 0.8;
const P99_TARGET_MS = 50;
/** Roughly a chat line; the message frame is then about 300 bytes. */
const TEXT_LENGTH = 80;

function fanoutLoad(pinning: Pinning, config: FanoutConfig): Promise<FanoutResult> {
  return runInChild<FanoutResult>('bench/load/fanout-load.ts', config, pinning);
}

const subscribeMs = (stats: SubscribeStats) => stats.connectMs + stats.settleMs;

function checkDelivery(result: FanoutResult, server: string): void {
  if (result.errors.length > 0) throw new Error(`${server} fan-out: ${result.errors.join('; ')}`);
  if (result.saturation.delivered === 0) throw new Error(`${server} fan-out: nothing delivered`);
}

const latencyText = (result: FanoutResult) => {
  const { p50, p99, p999 } = result.latency.latencyMs;
  return `p50 ${formatNumber(p50)} / p99 ${formatNumber(p99)} / p99.9 ${formatNumber(p999)} ms`;
};

/**
 * One room, N subscribers on rooms.events, each its own WebSocket, all in one load process on
 * the load core; the same load code against a minimal `ws` broadcast server.
 */
export async function runFanout(context: BenchContext): Promise<ScenarioResult> {
  const sizes = context.sizes.fanout;
  const seed = await seedDatabase(join(context.workDir, 'fanout.db'), {
    users: Math.max(sizes.users, sizes.joinStormUsers),
    room: ROOM,
    messages: 0,
    extraRooms: [STORM_ROOM],
  });
  const tokenOf = (index: number) => {
    const account = seed.accounts[index];
    if (!account) throw new Error(`no seeded account ${index}`);
    return account.token;
  };
  const tokens = Array.from({ length: sizes.subscribers }, (_, index) => tokenOf(index % sizes.users));
  const stormTokens = Array.from({ length: sizes.joinStormUsers }, (_, index) => tokenOf(index));
  const poster = seed.accounts[0]?.token ?? '';
  const common = {
    room: ROOM,
    tokens,
    joinStorm: { room: STORM_ROOM, tokens: stormTokens },
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

  context.log(`fanout: atlas-chat, ${sizes.subscribers} subscribers (${sizes.users} users)`);
  const atlas = await startServer(
    'server/main.ts',
    context.pinning,
    await context.databases.serverEnv(seed.path),
    context.serverNodeArgs('fanout-atlas'),
  );
  let ours: FanoutResult;
  try {
    ours = await fanoutLoad(context.pinning, {
      ...common,
      wsUrl: atlas.wsUrl,
      postUrl: `${atlas.baseUrl}/api/trpc/messages.post`,
      postHeaders: { authorization: `Bearer ${poster}` },
      serverPid: atlas.pid,
    });
    checkDelivery(ours, 'atlas-chat');
  } finally {
    await atlas.stop();
  }

  context.log(`fanout: raw ws broadcast server, same client, latency at ${formatNumber(ours.latency.rate)} msg/s`);
  const raw = await startServer(
    'bench/baseline-ws-server.ts',
    context.pinning,
    {},
    context.serverNodeArgs('fanout-baseline'),
  );
  let baseline: FanoutResult;
  try {
    baseline = await fanoutLoad(context.pinning, {
      ...common,
      wsUrl: raw.wsUrl,
      postUrl: `${raw.baseUrl}/publish`,
      postHeaders: {},
      // The same absolute rate as atlas-chat's latency phase: the latencies compare like for like.
      latencyRate: ours.latency.rate,
      serverPid: raw.pid,
    });
    checkDelivery(baseline, 'ws baseline');
  } finally {
    await raw.stop();
  }

  const satRatio = ours.saturation.deliveredPerSecond / baseline.saturation.deliveredPerSecond;
  const costEfficiency = baseline.cost.cpu.microsPerOp / ours.cost.cpu.microsPerOp;
  const { p99 } = ours.latency.latencyMs;
  const lossless = ours.latency.deliveredRatio === 1 && ours.duplicates === 0 && ours.outOfOrder === 0;
  const rows: Row[] = [
    {
      scenario: 'fan-out',
      figure: `delivered at saturation, ${sizes.subscribers} subscribers`,
      value: ours.saturation.deliveredPerSecond,
      unit: 'msg/s',
      baselineLabel: 'raw ws broadcast (msg/s)',
      baseline: baseline.saturation.deliveredPerSecond,
      ratio: satRatio,
      target: `≥ ${FANOUT_TARGET * 100}%`,
      met: satRatio >= FANOUT_TARGET,
      cpu: cpuColumns(ours.saturationCost, baseline.saturationCost),
    },
    {
      scenario: 'fan-out',
      figure: `server CPU per delivered message, ${sizes.subscribers} subscribers, ${sizes.cost.posts} posts at ${sizes.cost.rate}/s`,
      value: ours.cost.cpu.microsPerOp,
      unit: 'µs',
      display: `${formatNumber(ours.cost.cpu.microsPerOp)} µs (${ours.cost.delivered} / ${ours.cost.expected} delivered, ${formatNumber(ours.cost.bytesPerDelivery)} B each)`,
      baselineLabel: 'raw ws broadcast',
      baseline: baseline.cost.cpu.microsPerOp,
      baselineDisplay: `${formatNumber(baseline.cost.cpu.microsPerOp)} µs (${baseline.cost.delivered} / ${baseline.cost.expected}, ${formatNumber(baseline.cost.bytesPerDelivery)} B each)`,
      // Efficiency, like the CPU column: raw ws's CPU per delivery over ours.
      ratio: costEfficiency,
      target: `CPU efficiency ≥ ${COST_TARGET * 100}%`,
      met: costEfficiency >= COST_TARGET,
      cpu: cpuColumns(ours.cost.cpu, baseline.cost.cpu),
    },
    {
      scenario: 'fan-out',
      figure: `latency at half saturation (${formatNumber(ours.latency.rate)} posts/s)`,
      value: p99,
      unit: 'ms p99',
      display: latencyText(ours),
      baselineLabel: 'raw ws, same rate',
      baseline: baseline.latency.latencyMs.p99,
      baselineDisplay: latencyText(baseline),
      ratio: p99 / baseline.latency.latencyMs.p99,
      target: `p99 ≤ ${P99_TARGET_MS} ms`,
      met: p99 <= P99_TARGET_MS,
    },
    {
      scenario: 'fan-out',
      figure: 'delivered / expected at half saturation',
      value: ours.latency.deliveredRatio,
      unit: '',
      display: `${ours.latency.delivered} / ${ours.latency.expected}`,
      baselineLabel: 'raw ws',
      baseline: baseline.latency.deliveredRatio,
      baselineDisplay: `${baseline.latency.delivered} / ${baseline.latency.expected}`,
      ratio: ours.latency.deliveredRatio / baseline.latency.deliveredRatio,
      target: '100%, in order, no duplicates',
      met: lossless,
    },
  ];
  const ourStorm = ours.joinStorm;
  const theirStorm = baseline.joinStorm;
  if (ourStorm && theirStorm) {
    rows.push({
      scenario: 'fan-out',
      figure: `join storm: ${ourStorm.connections} users subscribe to one room at once, until quiet`,
      value: subscribeMs(ourStorm),
      unit: 'ms',
      display: `${formatNumber(subscribeMs(ourStorm))} ms, ${formatNumber(ourStorm.frames)} frames, ${formatNumber(ourStorm.megabytes)} MB`,
      baselineLabel: 'raw ws',
      baseline: subscribeMs(theirStorm),
      baselineDisplay: `${formatNumber(subscribeMs(theirStorm))} ms, ${formatNumber(theirStorm.megabytes)} MB`,
      ratio: subscribeMs(ourStorm) / subscribeMs(theirStorm),
      target: null,
      met: null,
    });
  }
  const notes = [
    `server CPU at saturation: atlas-chat ${formatNumber(ours.saturation.serverCpu * 100)}%, raw ws ${formatNumber(baseline.saturation.serverCpu * 100)}% of its core; load process ${formatNumber(ours.saturation.loadCpu * 100)}% / ${formatNumber(baseline.saturation.loadCpu * 100)}%`,
    `the ${sizes.subscribers} fan-out subscribers are ${sizes.users} users with ${sizes.subscribers / sizes.users} connections each; subscribing them took ${formatNumber(subscribeMs(ours.setup))} ms on atlas-chat (${formatNumber(ours.setup.megabytes)} MB received), ${formatNumber(subscribeMs(baseline.setup))} ms on raw ws`,
    ...(ours.closedSockets > 0
      ? [`atlas-chat closed ${ours.closedSockets} subscriber connections during the run`]
      : []),
  ];
  notes.push(
    `of that, accepting the posts (the same ${sizes.cost.posts} at ${sizes.cost.rate}/s with no subscriber): atlas-chat ${formatNumber(ours.cost.postsOnly.microsPerOp)} µs per post = ${formatNumber(ours.cost.postsOnly.microsPerOp / sizes.subscribers)} µs per delivery, raw ws ${formatNumber(baseline.cost.postsOnly.microsPerOp)} µs = ${formatNumber(baseline.cost.postsOnly.microsPerOp / sizes.subscribers)} µs; delivery alone: ${formatNumber(ours.cost.cpu.microsPerOp - ours.cost.postsOnly.microsPerOp / sizes.subscribers)} µs vs ${formatNumber(baseline.cost.cpu.microsPerOp - baseline.cost.postsOnly.microsPerOp / sizes.subscribers)} µs`,
    `cost phase: server CPU ${formatNumber(ours.cost.serverCpu * 100)}% (atlas-chat) / ${formatNumber(baseline.cost.serverCpu * 100)}% (raw ws) of a core over ${formatNumber(ours.cost.cpu.seconds)} / ${formatNumber(baseline.cost.cpu.seconds)} s, idle ${formatNumber(ours.cost.cpu.idleCores * 100)}% / ${formatNumber(baseline.cost.cpu.idleCores * 100)}% subtracted; load process ${formatNumber(ours.cost.loadCpu * 100)}% / ${formatNumber(baseline.cost.loadCpu * 100)}%`,
    ...loadBoundNotes({
      'atlas-chat saturation': ours.saturation,
      'raw ws saturation': baseline.saturation,
      'atlas-chat cost phase': ours.cost,
      'raw ws cost phase': baseline.cost,
    }),
    ...noiseNotes({
      'atlas-chat cost phase': ours.cost,
      'raw ws cost phase': baseline.cost,
      'atlas-chat saturation': ours.saturation,
      'atlas-chat latency': ours.latency,
      'raw ws saturation': baseline.saturation,
      'raw ws latency': baseline.latency,
    }),
  );
  return { rows, details: { subscribers: sizes.subscribers, atlas: ours, baseline }, notes };
}
