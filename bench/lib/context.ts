import type { BenchDatabases } from './database.ts';
import type { Pinning } from './processes.ts';
import type { Seed } from './seed.ts';
import type { Sizes } from './sizes.ts';

/** What every scenario gets from the runner. */
export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  pinning: Pinning;
  /** A temp directory for this run's databases; removed at the end. */
  workDir: string;
  /**
   * Extra node flags for a server child: with --cpu-prof, a CPU profile into
   * bench/results/profiles/<label>/ (label e.g. "send-atlas", "send-baseline"); otherwise none.
   */
  serverNodeArgs: (label: string) => string[];
  /** Progress for humans, on stderr: stdout carries only the report. */
  log: (line: string) => void;
  /** The room of `sizes.history.messages` messages, seeded once per run and shared (read-only). */
  historyDatabase: () => Promise<Seed>;
  /** The backend the atlas-chat servers run on (--database) and the environment that selects it. */
  databases: BenchDatabases;
}

export interface Row {
  scenario: string;
  /** What was measured, e.g. "messages.post over tRPC HTTP". */
  figure: string;
  value: number;
  unit: string;
  /** Overrides how the value is shown (e.g. several percentiles). */
  display?: string;
  baselineLabel: string;
  baseline: number;
  baselineDisplay?: string;
  /** value / baseline. */
  ratio: number;
  target: string | null;
  met: boolean | null;
  /**
   * Server CPU per operation (utime+stime over the measured window, idle subtracted, divided by
   * the operations done) for this figure and its baseline, and efficiency = baseline / value:
   * 100% means atlas-chat spends no more CPU per operation than the baseline.
   */
  cpu?: { value: number; baseline: number; efficiency: number; unit: string };
}

export interface ScenarioResult {
  rows: Row[];
  /** Everything measured, for results JSON. */
  details: Record<string, unknown>;
  /** Caveats worth printing under the table. */
  notes: string[];
}

export type Scenario = (context: BenchContext) => Promise<ScenarioResult>;
