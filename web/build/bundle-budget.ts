import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

interface BudgetOptions {
  /** Gzipped size of the JavaScript a first visit downloads before the app can run. */
  maxInitialKiB: number;
}

/**
 * Prints the gzipped size of the initial JavaScript (the entry chunk plus every chunk it imports
 * statically) after a build, and fails the build when it exceeds the budget, so a heavy new
 * dependency is noticed when it is added rather than by users on slow connections.
 */
export function bundleBudget({ maxInitialKiB }: BudgetOptions): Plugin {
  return {
    name: 'atlas-chat:bundle-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map<string, { code: string; imports: string[]; isEntry: boolean }>();
      for (const [fileName, output] of Object.entries(bundle)) {
        if (output.type === 'chunk') chunks.set(fileName, output);
      }
      const initial = new Set<string>();
      const visit = (fileName: string) => {
        if (initial.has(fileName)) return;
        const chunk = chunks.get(fileName);
        if (!chunk) return;
        initial.add(fileName);
        for (const imported of chunk.imports) visit(imported);
      };
      for (const [fileName, chunk] of chunks) if (chunk.isEntry) visit(fileName);

      let gzipped = 0;
      for (const fileName of initial) gzipped += gzipSync(chunks.get(fileName)?.code ?? '', { level: 9 }).length;
      const kib = gzipped / 1024;
      const line = `Initial JS: ${kib.toFixed(1)} KiB gzipped (${initial.size} file${initial.size === 1 ? '' : 's'}; budget ${maxInitialKiB} KiB)`;
      // Printed with console.log so it shows even when Vite's own logger is quiet.
      console.log(`\n${line}\n`);
      if (kib > maxInitialKiB) this.error(`${line}: over budget`);
    },
  };
}
