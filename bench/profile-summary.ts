/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof`):
 * the functions with the most self time, and the most time inclusive of callees ("total").
 * Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { repoRoot } from './lib/processes.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: a package under node_modules, our own top folder, node internals or V8. */
function owner(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `native: ${functionName}`;
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? relative(repoRoot, new URL(url).pathname) : url;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packageMatch?.[1]) return packageMatch[1];
  return path.split('/')[0] ?? path;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.startsWith('file://') ? relative(repoRoot, new URL(url).pathname) : url;
  const where = file ? ` ${file.replace(/^node_modules\//, '~/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where}`;
}

export function summarizeProfile(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfMicros = new Map<number, number>();
  let totalMicros = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
    totalMicros += delta;
  });

  const selfByLabel = new Map<string, number>();
  const selfByOwner = new Map<string, number>();
  const totalByLabel = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + micros);
    selfByOwner.set(owner(node), (selfByOwner.get(owner(node)) ?? 0) + micros);
    // Inclusive time: each sample counts once for every distinct function on its stack.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = byId.get(current);
      if (!frame) break;
      const name = label(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      totalByLabel.set(name, (totalByLabel.get(name) ?? 0) + micros);
    }
  }

  const table = (title: string, entries: Map<string, number>) => {
    const sorted = [...entries].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [
      title,
      ...sorted.map(([name, micros]) => `${((micros / totalMicros) * 100).toFixed(1).padStart(5)}%  ${name}`),
    ].join('\n');
  };
  return [
    `${(totalMicros / 1e6).toFixed(2)} s sampled`,
    table('self time by package (native calls count toward the JS function that made them):', selfByOwner),
    '',
    table('self time:', selfByLabel),
    '',
    table('total time (with callees):', totalByLabel),
  ].join('\n');
}

const file = process.argv[2];
if (file) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  console.log(summarizeProfile(profile, Number(process.argv[3] ?? 25)));
}
