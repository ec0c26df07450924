import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { migrationsDir } from '../package-root.ts';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Database_ {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

/** Only the server's own user may read the database: it holds password hashes. */
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/**
 * Creates the data directory (0700) if missing, and the database file with mode 0600 before
 * SQLite opens it: SQLite gives the -wal and -shm files it creates the main file's permissions.
 * An existing database, WAL or SHM file readable by others is tightened to 0600.
 */
function prepareFiles(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: DIRECTORY_MODE });
  closeSync(openSync(path, 'a', FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, FILE_MODE);
  }
}

/**
 * Opens (creating if needed) the SQLite file, sets the pragmas the app relies on and applies
 * pending migrations from `migrationsFolder` (drizzle/sqlite). `:memory:` gives a throw-away
 * database, as the brief's in-memory mode.
 */
export function openDatabase(path: string, migrationsFolder = join(migrationsDir(), 'sqlite')): Database_ {
  if (path !== ':memory:') prepareFiles(path);
  const sqlite = new Database(path);
  // WAL lets readers run while a write commits; FULL makes every acknowledged commit durable
  // (the WAL is fsynced on each commit), which NORMAL does not promise after a power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  return {
    db,
    sqlite,
    close() {
      if (!sqlite.open) return;
      // Folds the WAL back into the main file so a stopped server leaves one tidy file.
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      sqlite.close();
    },
  };
}
