import { asc, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { defaultMigrationsDir } from '../../server/store/migrations-dir.ts';
import { createPool, migrateWithLock } from '../../server/store/postgres/open.ts';
import { describePostgresUrl } from '../../server/store/postgres/postgres-store.ts';
import type { Endpoint } from './endpoint.ts';
import { afterKey, ID_TABLES, type IdTableName, keyColumns, pgSchema, type Row, TABLES } from './tables.ts';

/**
 * A PostgreSQL database as a copy source or target, on one dedicated connection: a source reads in
 * one REPEATABLE READ snapshot, a target writes in one transaction. Opening applies pending
 * migrations under the same advisory lock as the server.
 */
export async function openPostgresEndpoint(url: string, migrationsDir?: string): Promise<Endpoint> {
  const pool = createPool({ url, size: 1 });
  let client: pg.PoolClient;
  try {
    await migrateWithLock(pool, migrationsDir ?? defaultMigrationsDir('postgres'));
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const db = drizzle(client, { schema: pgSchema });
  let inTransaction = false;
  const sequenceOf = (table: IdTableName) => sql`pg_get_serial_sequence(${`public.${table}`}, 'id')`;
  return {
    description: `postgres ${describePostgresUrl(url)}`,
    async startReading() {
      await client.query('begin isolation level repeatable read read only');
      inTransaction = true;
    },
    async count(table) {
      const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table.name}`);
      return Number(rows[0]?.n ?? 0);
    },
    async read(table, after, limit) {
      const keys = keyColumns(pgSchema, table);
      return (await db
        .select()
        .from(pgSchema[table.key])
        .where(afterKey(keys, after))
        .orderBy(...keys.map((key) => asc(key)))
        .limit(limit)) as Row[];
    },
    async lastIds() {
      const result = {} as Record<IdTableName, number>;
      for (const table of ID_TABLES) {
        // last_value is the last id handed out once is_called; before that, nothing was.
        const { rows } = await db.execute<{ last_value: string; is_called: boolean }>(
          sql`select last_value, is_called from ${sql.raw(`${table.name}_id_seq`)}`,
        );
        const row = rows[0];
        result[table.name] = row?.is_called ? Number(row.last_value) : 0;
      }
      return result;
    },
    async startWriting() {
      await client.query('begin');
      inTransaction = true;
    },
    async clear() {
      await client.query(`truncate ${TABLES.map((table) => table.name).join(', ')} restart identity`);
    },
    async write(table, rows) {
      if (rows.length > 0) await db.insert(pgSchema[table.key]).values(rows as never[]);
    },
    async setLastIds(lastIds) {
      for (const table of ID_TABLES) {
        const last = lastIds[table.name];
        // setval(seq, n, true): the next id is n + 1; (seq, 1, false): the next id is 1.
        await db.execute(
          last > 0
            ? sql`select setval(${sequenceOf(table.name)}, ${last}, true)`
            : sql`select setval(${sequenceOf(table.name)}, 1, false)`,
        );
      }
    },
    async commit() {
      await client.query('commit');
      inTransaction = false;
    },
    async close() {
      if (inTransaction) await client.query('rollback').catch(() => {});
      client.release();
      await pool.end();
    },
  };
}
