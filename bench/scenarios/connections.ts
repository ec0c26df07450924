import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { runInChild } from '../lib/load-process.ts';
import { startServer } from '../lib/processes.ts';
import { formatNumber } from '../lib/report.ts';
import { seedDatabase } from '../lib/seed.ts';
import type { IdleConfig, IdleResult } from '../load/idle-connections.ts';

/** Issue 14: keep it at or under today's 12 KiB. */
const TARGET_KIB = 12;
/** Descriptors the server and the load process need besides the connections themselves. */
const SPARE_DESCRIPTORS = 200;

/** The soft limit on open files this process (and so its children) runs with. */
function openFileLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !match?.[1] || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** Server memory per idle authenticated WebSocket: RSS growth over many connections. */
export async function runConnections(context: BenchContext): Promise<ScenarioResult> {
  const sizes = context.sizes.connections;
  const notes: string[] = [];
  const limit = openFileLimit();
  let connections = sizes.connections;
  if (connections + sizes.warmConnections + SPARE_DESCRIPTORS > limit) {
    connections = Math.max(1, limit - sizes.warmConnections - SPARE_DESCRIPTORS);
    notes.push(
      `open-file limit ${limit} (ulimit -n): measured ${connections} connections instead of ${sizes.connections}; raise it with ulimit -n before the run`,
    );
  }
  const seed = await seedDatabase(join(context.workDir, 'connections.db'), { users: 10, room: 'idle', messages: 0 });
  const config = (wsUrl: string, serverPid: number): IdleConfig => ({
    wsUrl,
    tokens: seed.accounts.map((account) => account.token),
    warmConnections: sizes.warmConnections,
    connections,
    connectConcurrency: 100,
    settleMs: sizes.settleMs,
    serverPid,
  });
  const measure = async (script: string, env: Record<string, string>, nodeArgs: string[] = []) => {
    const server = await startServer(script, context.pinning, env, nodeArgs);
    try {
      const result = await runInChild<IdleResult>(
        'bench/load/idle-connections.ts',
        config(server.wsUrl, server.pid),
        context.pinning,
      );
      if (result.connections === 0)
        throw new Error(`${script}: no connection authenticated (${result.failures} failed)`);
      if (result.failures > 0) notes.push(`${script}: ${result.failures} connections failed`);
      return result;
    } finally {
      await server.stop();
    }
  };

  context.log(`connections: atlas-chat, ${connections} idle authenticated WebSockets`);
  const ours = await measure(
    'server/main.ts',
    await context.databases.serverEnv(seed.path),
    context.serverNodeArgs('connections-atlas'),
  );
  context.log('connections: raw ws server, same client');
  const baseline = await measure('bench/baseline-ws-server.ts', {});

  const row: Row = {
    scenario: 'connections',
    figure: `server memory per idle authenticated WebSocket, ${ours.connections} open`,
    value: ours.perConnectionKiB,
    unit: 'KiB',
    baselineLabel: 'raw ws (KiB)',
    baseline: baseline.perConnectionKiB,
    ratio: ours.perConnectionKiB / baseline.perConnectionKiB,
    target: `≤ ${TARGET_KIB} KiB`,
    met: ours.perConnectionKiB <= TARGET_KIB,
  };
  notes.push(
    `RSS ${formatNumber(ours.rssBeforeKiB / 1024)} → ${formatNumber(ours.rssAfterKiB / 1024)} MiB on atlas-chat, ${formatNumber(baseline.rssBeforeKiB / 1024)} → ${formatNumber(baseline.rssAfterKiB / 1024)} MiB on raw ws`,
  );
  return { rows: [row], details: { atlas: ours, baseline }, notes };
}
