import { availableParallelism, cpus, release, totalmem } from 'node:os';
import type { Row } from './context.ts';
import type { Pinning } from './processes.ts';

export function describeMachine(pinning: Pinning) {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${release()}`,
    pinning: pinning.description,
  };
}

/** 12345.6 → "12,346"; small numbers keep a little precision. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%` : String(ratio);
}

/** The Markdown table printed on stdout and pasted into the README. */
export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| Scenario | Figure | Baseline (same run) | Ratio | Target | Met? | Server CPU/op | Baseline CPU/op | CPU efficiency |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const value = row.display ?? `${formatNumber(row.value)} ${row.unit}`;
    const baseline = row.baselineDisplay ?? formatNumber(row.baseline);
    const met = row.met === null ? '—' : row.met ? 'met' : 'missed';
    const cpu = row.cpu
      ? `${formatNumber(row.cpu.value)} ${row.cpu.unit} | ${formatNumber(row.cpu.baseline)} ${row.cpu.unit} | ${formatRatio(row.cpu.efficiency)}`
      : '— | — | —';
    lines.push(
      `| ${row.scenario} | ${row.figure}: ${value} | ${row.baselineLabel}: ${baseline} | ${formatRatio(row.ratio)} | ${row.target ?? '—'} | ${met} | ${cpu} |`,
    );
  }
  return lines.join('\n');
}

/** Server CPU per operation of a figure against its baseline's, in µs; efficiency = baseline / ours. */
export function cpuColumns(ours: { microsPerOp: number }, baseline: { microsPerOp: number }, unit = 'µs') {
  return {
    value: ours.microsPerOp,
    baseline: baseline.microsPerOp,
    efficiency: baseline.microsPerOp / ours.microsPerOp,
    unit,
  };
}

/**
 * A load generator whose own core was nearly full set the pace, not the server: throughput
 * ratios from such windows say little (CPU per operation still does).
 */
export function loadBoundNotes(windows: Record<string, { loadCpu: number; serverCpu: number }>): string[] {
  const bound = Object.entries(windows).filter(([, window]) => window.loadCpu > 0.9);
  if (bound.length === 0) return [];
  const list = bound
    .map(
      ([name, window]) =>
        `${name} (load ${Math.round(window.loadCpu * 100)}%, server ${Math.round(window.serverCpu * 100)}%)`,
    )
    .join(', ');
  return [`load generator near a full core, so it may have set the pace: ${list}`];
}

/** Other processes busy during a measured window make its figure less trustworthy: say so. */
export function noiseNotes(windows: Record<string, { otherCpu: number }>): string[] {
  const noisy = Object.entries(windows).filter(([, window]) => window.otherCpu > 0.1);
  if (noisy.length === 0) return [];
  const list = noisy.map(([name, window]) => `${name} ${Math.round(window.otherCpu * 100)}%`).join(', ');
  return [
    `other processes used CPU during measurement (share of one core): ${list}; figures from those windows are less reliable`,
  ];
}
