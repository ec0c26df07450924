/**
 * `npm run db:copy -- --from <sqlite path | postgres url> --to <postgres url | sqlite path> [--replace]`
 *
 * Copies every user (with password hash), session, room, membership, message, reaction and the
 * change log, with the counters, ids, seqs, room change numbers and id sequences, between the two
 * backends (either way). The target is created and
 * migrated if needed; a non-empty target is refused unless --replace, which deletes its data first.
 * Stop the server first for a cut-over: the copy reads one snapshot, so posts made during the copy
 * are not in it. See docs/database.md.
 */
import { parseArgs } from 'node:util';
import { unwrapDriverError } from '../server/store/postgres/errors.ts';
import { CopyRefusedError, copyDatabase, isPostgresUrl } from './db-copy/copy.ts';

function redact(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      replace: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
    },
  });
  if (!values.from || !values.to) {
    console.error(
      'usage: npm run db:copy -- --from <sqlite path | postgres url> --to <postgres url | sqlite path> [--replace]',
    );
    return 2;
  }
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000)) {
    console.error('--batch-size must be a whole number from 1 to 5000');
    return 2;
  }
  console.error(`copying ${redact(values.from)} -> ${redact(values.to)}`);
  const started = performance.now();
  let lastLine = 0;
  try {
    const summary = await copyDatabase({
      from: values.from,
      to: values.to,
      replace: values.replace,
      batchSize,
      onProgress({ table, copied, total }) {
        const now = performance.now();
        // A line per table, and on a large table one at most every 2 seconds.
        if (copied !== 0 && copied !== total && now - lastLine < 2000) return;
        if (copied === 0 && total !== 0) return;
        lastLine = now;
        const percent = total === 0 ? 100 : Math.floor((copied / total) * 100);
        console.error(`  ${table}: ${copied}/${total} (${percent}%)`);
      },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(
      `done in ${seconds} s: ${Object.entries(summary)
        .map(([table, n]) => `${n} ${table}`)
        .join(', ')}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof CopyRefusedError) {
      console.error(`refused: ${error.message}`);
      return 1;
    }
    // The driver's own error: Drizzle's wrapper would print every value of the failed batch, password
    // and token hashes included, into a terminal or a CI log.
    const cause = unwrapDriverError(error);
    console.error(
      `copy failed, no data was written to the target: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    return 1;
  }
}

process.exitCode = await main();
