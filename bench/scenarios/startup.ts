import { join } from 'node:path';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { startServer } from '../lib/processes.ts';
import { seedDatabase } from '../lib/seed.ts';
import { median } from '../lib/stats.ts';

/** Process start to the first /healthz 200, on the seeded room against an empty database. */
export async function runStartup(context: BenchContext): Promise<ScenarioResult> {
  const { runs } = context.sizes.startup;
  const seeded = await context.historyDatabase();
  const empty = await seedDatabase(join(context.workDir, 'empty.db'), { users: 0, room: 'empty', messages: 0 });
  const once = async (path: string) => {
    const server = await startServer('server/main.ts', context.pinning, { DATABASE_PATH: path });
    await server.stop();
    return server.startupMs;
  };

  context.log(`startup: ${runs} starts each, ${seeded.messages} messages vs empty, alternating`);
  // Alternating spreads any drift (disk cache, tsx's compile cache warming up) over both.
  const withMessages: number[] = [];
  const withoutMessages: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    withMessages.push(await once(seeded.path));
    withoutMessages.push(await once(empty.path));
  }
  const value = median(withMessages);
  const baseline = median(withoutMessages);
  const row: Row = {
    scenario: 'start-up',
    figure: `process start to /healthz 200, ${seeded.messages} messages (median of ${runs})`,
    value,
    unit: 'ms',
    baselineLabel: 'empty database (ms)',
    baseline,
    ratio: value / baseline,
    target: null,
    met: null,
  };
  return { rows: [row], details: { runs: { withMessages, withoutMessages } }, notes: [] };
}
