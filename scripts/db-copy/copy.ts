import type { Endpoint } from './endpoint.ts';
import { openPostgresEndpoint } from './postgres-endpoint.ts';
import { openSqliteEndpoint } from './sqlite-endpoint.ts';
import { ID_TABLES, TABLES, type TableName } from './tables.ts';

export interface CopyProgress {
  /** The SQL name (`message_changes`), as the operator knows the table. */
  table: TableName;
  copied: number;
  total: number;
}

export interface CopyOptions {
  /** A SQLite path, or a postgres:// / postgresql:// URL. */
  from: string;
  to: string;
  /** Empty a non-empty target first. Without it a non-empty target is refused (nothing written). */
  replace?: boolean;
  /** Rows per read and per insert: memory stays bounded by one batch whatever the database size. */
  batchSize?: number;
  /** The folder holding sqlite/ and postgres/ migrations (the package's drizzle/ unless given). */
  migrationsDir?: string;
  onProgress?: (progress: CopyProgress) => void;
}

export type CopySummary = Record<TableName, number>;

export class CopyRefusedError extends Error {
  override name = 'CopyRefusedError';
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

async function open(location: string, role: 'source' | 'target', migrationsDir?: string): Promise<Endpoint> {
  const folder = (backend: string) => (migrationsDir === undefined ? undefined : `${migrationsDir}/${backend}`);
  return isPostgresUrl(location)
    ? openPostgresEndpoint(location, folder('postgres'))
    : openSqliteEndpoint(location, role, folder('sqlite'));
}

/**
 * Copies every table (tables.ts: users with password hashes, sessions, rooms, memberships, messages,
 * reactions and the change log) and every counter from one database to another, either backend to
 * either backend, keeping ids, seqs and room change numbers (so live clients' event ids and stored
 * links stay valid) and the id counters (the next id continues where the source's would). The source is read in one snapshot; the target is written in one transaction, so
 * a failed copy leaves it as it was. A non-empty target is refused unless `replace`.
 */
export async function copyDatabase(options: CopyOptions): Promise<CopySummary> {
  if (options.from === options.to) throw new CopyRefusedError('--from and --to are the same database');
  const batchSize = options.batchSize ?? 1000;
  const source = await open(options.from, 'source', options.migrationsDir);
  let target: Endpoint | undefined;
  try {
    target = await open(options.to, 'target', options.migrationsDir);
    await target.startWriting();
    const nonEmpty: string[] = [];
    for (const table of TABLES) {
      const count = await target.count(table);
      if (count > 0) nonEmpty.push(`${table.name}: ${count}`);
    }
    if (nonEmpty.length > 0) {
      if (!options.replace) {
        throw new CopyRefusedError(
          `${target.description} is not empty (${nonEmpty.join(', ')}); pass --replace to delete its data and copy over it`,
        );
      }
      await target.clear();
    }

    await source.startReading();
    const summary = {} as CopySummary;
    const newestIds = new Map<TableName, number>();
    for (const table of TABLES) {
      const total = await source.count(table);
      let copied = 0;
      options.onProgress?.({ table: table.name, copied, total });
      let after: unknown[] | undefined;
      for (;;) {
        const rows = await source.read(table, after, batchSize);
        if (rows.length === 0) break;
        await target.write(table, rows);
        copied += rows.length;
        options.onProgress?.({ table: table.name, copied, total });
        const last = rows[rows.length - 1] as Record<string, unknown>;
        after = table.keys.map((key) => last[key]);
        if (table.idCounter) newestIds.set(table.name, last.id as number);
        if (rows.length < batchSize) break;
      }
      summary[table.name] = copied;
    }
    const lastIds = await source.lastIds();
    // A counter is never behind the ids actually present (a hand-edited database could be).
    for (const { name } of ID_TABLES) lastIds[name] = Math.max(lastIds[name], newestIds.get(name) ?? 0);
    await target.setLastIds(lastIds);
    for (const table of TABLES) {
      const count = await target.count(table);
      if (count !== summary[table.name])
        throw new Error(`${table.name}: copied ${summary[table.name]} rows but the target holds ${count}`);
    }
    await target.commit();
    return summary;
  } finally {
    await target?.close();
    await source.close();
  }
}
