import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Proves the benchmark harness still works end to end (`npm run bench -- --quick`): every
 * scenario runs against real server processes and yields numbers. What the numbers are is never
 * asserted, not even their sign: a figure derived from two noisy readings (RSS growth per idle
 * WebSocket is RSS after minus RSS before, over a few hundred connections) can come out negative
 * on a busy machine, and timing on a shared CI machine is not a test result.
 */
const SCENARIOS = ['send', 'fanout', 'history', 'connections', 'startup'];

interface Row {
  scenario: string;
  figure: string;
  value: number;
  baseline: number;
  ratio: number;
  met: boolean | null;
}

interface Results {
  mode: string;
  machine: { cpuModel: string; cores: number; node: string; pinning: string };
  rows: Row[];
  scenarios: Record<string, { error?: string; rows?: Row[] }>;
}

const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runQuickBench(out: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(
      'npm',
      ['run', '--silent', 'bench', '--', '--quick', '--out', out],
      // Generous: about a minute here, longer when the machine is busy; a timeout is no measurement.
      { cwd: join(import.meta.dirname, '..'), timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

describe('npm run bench -- --quick', () => {
  it('runs every scenario and reports a finite figure and baseline, and a ratio, for each row', {
    timeout: 320_000,
  }, async () => {
    const out = join(dir, 'quick.json');
    const run = await runQuickBench(out);
    expect(run.code, run.stderr.slice(-4000)).toBe(0);

    expect(run.stdout).toContain('| Scenario | Figure | Baseline (same run) | Ratio | Target | Met? |');
    expect(run.stdout).toMatch(/Pinning: /);

    const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(results.mode).toBe('quick');
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.machine.pinning.length).toBeGreaterThan(0);

    for (const scenario of SCENARIOS) {
      const result = results.scenarios[scenario];
      expect(result, `${scenario} missing`).toBeDefined();
      expect(result?.error, `${scenario} failed`).toBeUndefined();
      const rows = result?.rows ?? [];
      expect(rows.length, `${scenario} has no rows`).toBeGreaterThan(0);
      for (const row of rows) {
        const what = `${scenario}: ${row.figure}`;
        for (const [name, number] of Object.entries({ value: row.value, baseline: row.baseline })) {
          expect(Number.isFinite(number), `${what} ${name} = ${number}`).toBe(true);
        }
        // value / baseline: a baseline that happens to read 0 makes it Infinity or NaN, which is no bug.
        expect(typeof row.ratio, `${what} ratio`).toBe('number');
        expect([true, false, null]).toContain(row.met);
      }
    }
    // The table printed is the one in the file.
    for (const row of results.rows) expect(run.stdout).toContain(row.figure);
  });
});
