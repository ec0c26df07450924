import { existsSync } from 'node:fs';
import { asc } from 'drizzle-orm';
import { openDatabase } from '../../server/db/client.ts';
import type { Endpoint } from './endpoint.ts';
import {
  afterKey,
  ID_TABLES,
  type IdTableName,
  keyColumns,
  type Row,
  sqliteSchema,
  TABLES,
  type Table,
} from './tables.ts';

/**
 * A SQLite file as a copy source or target. Opening applies pending migrations, as the server does
 * on start. A source must already exist: a typo must not copy an empty new database.
 */
export function openSqliteEndpoint(path: string, role: 'source' | 'target', migrationsDir?: string): Endpoint {
  if (role === 'source' && (path === ':memory:' || !existsSync(path))) {
    throw new Error(`no SQLite database at ${path}`);
  }
  const database = migrationsDir ? openDatabase(path, migrationsDir) : openDatabase(path);
  const { db, sqlite } = database;
  let inTransaction = false;
  const begin = (statement: string) => {
    sqlite.exec(statement);
    inTransaction = true;
  };
  return {
    description: `sqlite ${path}`,
    async startReading() {
      // A read transaction in WAL mode: one snapshot for the whole copy, writers go on meanwhile.
      begin('begin');
      sqlite.prepare('select count(*) from users').get();
    },
    async count(table) {
      return (sqlite.prepare(`select count(*) as n from ${table.name}`).get() as { n: number }).n;
    },
    async read(table, after, limit) {
      const keys = keyColumns(sqliteSchema, table);
      return db
        .select()
        .from(sqliteSchema[table.key])
        .where(afterKey(keys, after))
        .orderBy(...keys.map((key) => asc(key)))
        .limit(limit)
        .all() as Row[];
    },
    async lastIds() {
      const rows = sqlite.prepare('select name, seq from sqlite_sequence').all() as { name: string; seq: number }[];
      const found = new Map(rows.map((row) => [row.name, row.seq]));
      return Object.fromEntries(ID_TABLES.map((table) => [table.name, found.get(table.name) ?? 0])) as Record<
        IdTableName,
        number
      >;
    },
    async startWriting() {
      begin('begin immediate');
    },
    async clear() {
      for (const table of [...TABLES].reverse()) sqlite.prepare(`delete from ${table.name}`).run();
      sqlite.prepare('delete from sqlite_sequence').run();
    },
    async write(table: Table, rows) {
      if (rows.length > 0)
        db.insert(sqliteSchema[table.key])
          .values(rows as never[])
          .run();
    },
    async setLastIds(lastIds) {
      const remove = sqlite.prepare('delete from sqlite_sequence where name = ?');
      const insert = sqlite.prepare('insert into sqlite_sequence (name, seq) values (?, ?)');
      for (const table of ID_TABLES) {
        remove.run(table.name);
        if (lastIds[table.name] > 0) insert.run(table.name, lastIds[table.name]);
      }
    },
    async commit() {
      sqlite.exec('commit');
      inTransaction = false;
    },
    async close() {
      if (inTransaction) sqlite.exec('rollback');
      inTransaction = false;
      database.close();
    },
  };
}
