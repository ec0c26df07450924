import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { readCpuSeconds, readTreeRssKiB, startServer } from '../lib/processes.ts';
import { formatNumber } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const TARGET_MS = 1000;
/** Half of what `npm start` took through tsx before issue #9 (two processes, 194–205 MiB; decision 015). */
const TARGET_RSS_MIB = 98;
const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

interface Variant {
  label: string;
  script: string;
  scriptArgs?: string[];
  /** Whether it serves the seeded database (the baseline has none). */
  database: boolean;
}

/** What `npm start` and the container run: the bundled server, one plain node process. */
const compiled: Variant = { label: 'dist/server.js (npm start)', script: 'dist/server.js', database: true };
/** How `npm run dev` and the tests run the server: TypeScript through tsx's loader. */
const tsx: Variant = { label: 'TypeScript through tsx (npm run dev)', script: 'server/main.ts', database: true };
const bare: Variant = { label: 'bare node HTTP', script: 'bench/baseline-bare-http.js', database: false };

/**
 * Process start to the first /healthz 200 on the seeded room, and RSS once idle, for the compiled
 * server and the tsx-run one, each against a bare node HTTP server started the same way (pinned,
 * polled the same) in the same run.
 */
export async function runStartup(context: BenchContext): Promise<ScenarioResult> {
  const { runs, settleMs, withTsx } = context.sizes.startup;
  const seeded = await context.historyDatabase();
  const variants = withTsx ? [compiled, tsx, bare] : [compiled, bare];
  const startupMs = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
  const rssKiB = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
  // CPU time used by the time it was healthy: less at the mercy of other processes than wall time
  // on a shared machine (a launcher's children are not counted until they exit).
  const cpuMs = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));

  context.log(
    `startup: ${runs} starts each of ${variants.map((v) => v.label).join(', ')}; ${seeded.messages} messages`,
  );
  // Round-robin spreads any drift (disk cache, tsx's compile cache warming up) over all variants.
  for (let run = 0; run < runs; run += 1) {
    for (const variant of variants) {
      const env: Record<string, string> = variant.database ? { DATABASE_PATH: seeded.path } : {};
      const server = await startServer(variant.script, context.pinning, env, [], variant.scriptArgs);
      try {
        cpuMs.get(variant)?.push(readCpuSeconds(server.pid) * 1000);
        await sleep(settleMs);
        startupMs.get(variant)?.push(server.startupMs);
        rssKiB.get(variant)?.push(readTreeRssKiB(server.pid));
      } finally {
        await server.stop();
      }
    }
  }

  const medianOf = (figures: Map<Variant, number[]>, variant: Variant) => median(figures.get(variant) ?? []);
  const baselineMs = medianOf(startupMs, bare);
  const baselineMiB = medianOf(rssKiB, bare) / 1024;
  const rows: Row[] = [];
  for (const variant of variants.filter((variant) => variant !== bare)) {
    const ms = medianOf(startupMs, variant);
    const mib = medianOf(rssKiB, variant) / 1024;
    const product = variant === compiled;
    rows.push(
      {
        scenario: 'start-up',
        figure: `process start to /healthz 200, ${variant.label}, ${seeded.messages} messages (median of ${runs})`,
        value: ms,
        unit: 'ms',
        baselineLabel: `${bare.label} (ms)`,
        baseline: baselineMs,
        ratio: ms / baselineMs,
        target: product ? `≤ ${TARGET_MS} ms` : null,
        met: product ? ms <= TARGET_MS : null,
      },
      {
        scenario: 'start-up',
        figure: `RSS at idle, ${variant.label} (median of ${runs})`,
        value: mib,
        unit: 'MiB',
        baselineLabel: `${bare.label} (MiB)`,
        baseline: baselineMiB,
        ratio: mib / baselineMiB,
        target: product ? `< ${TARGET_RSS_MIB} MiB` : null,
        met: product ? mib < TARGET_RSS_MIB : null,
      },
    );
  }
  const notes = [
    `RSS read ${settleMs} ms after the first healthy answer, summed over the process and its children; bare node: ${formatNumber(baselineMiB)} MiB`,
    `CPU time used by the time of the first healthy answer (median): ${variants
      .map((variant) => `${variant.label} ${formatNumber(medianOf(cpuMs, variant))} ms`)
      .join(', ')}`,
  ];
  const details = Object.fromEntries(
    variants.map((variant) => [
      variant.label,
      {
        script: variant.script,
        startupMs: startupMs.get(variant),
        cpuMs: cpuMs.get(variant),
        rssKiB: rssKiB.get(variant),
      },
    ]),
  );
  return { rows, details, notes };
}
