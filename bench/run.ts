/**
 * `npm run bench` (full sizes, a few minutes) and `npm run bench -- --quick` (small sizes, under a
 * minute, to prove the harness works). `--only send,fanout` runs some scenarios; `--cpu-prof`
 * writes a CPU profile of every server child, atlas-chat's and the baselines', to
 * bench/results/profiles/<scenario>-<server>/. `--database postgres` runs the atlas-chat servers on
 * PostgreSQL (`--database-url`, an admin URL; default the local server).
 * Prints a Markdown table on stdout and writes bench/results/latest.json (latest-postgres.json with
 * `--database postgres`, quick.json for --quick,
 * partial.json for --only, or the file given with --out).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../scripts/ensure-build.js';
import type { BenchContext, Row, Scenario, ScenarioResult } from './lib/context.ts';
import { type BenchBackend, BenchDatabases } from './lib/database.ts';
import { detectPinning, killAllChildren, repoRoot } from './lib/processes.ts';
import { describeMachine, markdownTable } from './lib/report.ts';
import { type Seed, seedDatabase } from './lib/seed.ts';
import { fullSizes, quickSizes } from './lib/sizes.ts';
import { runConnections } from './scenarios/connections.ts';
import { runFanout } from './scenarios/fanout.ts';
import { runHistory } from './scenarios/history.ts';
import { runMultiInstance } from './scenarios/multi-instance.ts';
import { runSearch } from './scenarios/search.ts';
import { runSend } from './scenarios/send.ts';
import { runStartup } from './scenarios/startup.ts';

const scenarios: Record<string, Scenario> = {
  send: runSend,
  fanout: runFanout,
  history: runHistory,
  connections: runConnections,
  startup: runStartup,
  search: runSearch,
};

/**
 * Scenarios that run only when named with --only: `multi` (two instances in shared mode) needs a
 * running PostgreSQL and Redis, which the default and --quick runs do not.
 */
const onlyOnRequest: Record<string, Scenario> = {
  multi: runMultiInstance,
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
      database: { type: 'string', default: 'sqlite' },
      'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
  });
  if (values.database !== 'sqlite' && values.database !== 'postgres') {
    throw new Error(`--database must be sqlite or postgres, not ${values.database}`);
  }
  const databases = new BenchDatabases(values.database as BenchBackend, values['database-url']);
  const selected = values.only ? values.only.split(',').map((name) => name.trim()) : Object.keys(scenarios);
  for (const name of selected) {
    if (!scenarios[name] && !onlyOnRequest[name])
      throw new Error(
        `unknown scenario "${name}"; choose from ${[...Object.keys(scenarios), ...Object.keys(onlyOnRequest)].join(', ')}`,
      );
  }

  const quick = values.quick;
  const pinning = detectPinning();
  const resultsDir = join(repoRoot, 'bench/results');
  const profileDir = join(resultsDir, 'profiles');
  const workDir = mkdtempSync(join(tmpdir(), 'atlas-bench-'));
  const started = performance.now();
  const log = (line: string) =>
    process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  let history: Promise<Seed> | undefined;
  const context: BenchContext = {
    quick,
    sizes: quick ? quickSizes : fullSizes,
    pinning,
    workDir,
    serverNodeArgs: (label) => (values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, label)] : []),
    log,
    databases,
    historyDatabase: () => {
      history ??= (async () => {
        const { messages, users } = context.sizes.history;
        log(`seeding a room of ${messages} messages`);
        return seedDatabase(join(workDir, 'history.db'), { users, room: 'history', messages });
      })();
      return history;
    },
  };

  log(`${quick ? 'quick' : 'full'} run; ${pinning.description}`);
  const results: Record<string, ScenarioResult | { error: string }> = {};
  const rows: Row[] = [];
  const notes: string[] = [];
  let failed = false;
  // The start-up scenario runs the compiled server, as `npm start` does. A build that fails
  // fails that scenario only: the others run the TypeScript sources.
  let buildError: string | null = null;
  if (selected.includes('startup')) {
    try {
      ensureBuild({ quiet: true });
    } catch (error) {
      buildError = error instanceof Error ? error.message : String(error);
    }
  }
  try {
    for (const name of selected) {
      const scenario = scenarios[name] ?? onlyOnRequest[name];
      if (!scenario) continue;
      if (name === 'startup' && buildError !== null) {
        failed = true;
        results[name] = { error: `the server does not build: ${buildError}` };
        log(`${name} FAILED: the server does not build: ${buildError}`);
        continue;
      }
      const scenarioStart = performance.now();
      try {
        const result = await scenario(context);
        results[name] = {
          ...result,
          details: { ...result.details, seconds: (performance.now() - scenarioStart) / 1000 },
        };
        rows.push(...result.rows);
        notes.push(...result.notes.map((note) => `${name}: ${note}`));
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        results[name] = { error: message };
        log(`${name} FAILED: ${message}`);
      }
    }
  } finally {
    killAllChildren();
    await databases.dropAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  const seconds = (performance.now() - started) / 1000;
  const machine = describeMachine(pinning);
  const output = [
    `atlas-chat benchmark (${quick ? 'quick' : 'full'} run, ${seconds.toFixed(0)} s, database ${values.database}) on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}`,
    `Pinning: ${pinning.description}`,
    '',
    markdownTable(rows),
    ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${note}`)] : []),
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  mkdirSync(resultsDir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    seconds,
    machine,
    pinning,
    rows,
    scenarios: results,
  };
  // Quick and partial (--only) runs are kept apart so they never replace a full run's results.
  // A full PostgreSQL run must not overwrite the SQLite one that docs/performance.md quotes.
  const full = values.database === 'postgres' ? 'latest-postgres.json' : 'latest.json';
  const target = values.out ?? join(resultsDir, quick ? 'quick.json' : values.only ? 'partial.json' : full);
  writeFileSync(target, `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${target}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllChildren();
    console.error(error);
    process.exit(1);
  },
);
