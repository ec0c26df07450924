import { type Column, gt, type SQL, sql } from 'drizzle-orm';
import * as sqliteSchema from '../../server/db/schema.ts';
import * as pgSchema from '../../server/db/schema-pg.ts';

/** The tables copied, parents first (so foreign keys hold at every insert), with their keys. */
export const TABLES = ['users', 'sessions', 'rooms', 'memberships', 'messages'] as const;
export type TableName = (typeof TABLES)[number];

/** Tables with an auto-increment / identity id, whose counter is copied too. */
export const ID_TABLES = ['users', 'sessions', 'rooms', 'messages'] as const satisfies readonly TableName[];
export type IdTableName = (typeof ID_TABLES)[number];

/** A row as Drizzle reads it on either backend: the two schemas share property names and JS types. */
export type Row = Record<string, unknown>;

/** The primary key columns, in key order, of a table in a schema. */
export function keyColumns(schema: typeof sqliteSchema | typeof pgSchema, table: TableName): Column[] {
  const t = schema[table];
  if (table === 'memberships') {
    const memberships = t as typeof schema.memberships;
    return [memberships.roomId, memberships.userId];
  }
  return [(t as typeof schema.users).id];
}

/** Rows after `after` (the key values of the last row read) in key order; undefined from the start. */
export function afterKey(keys: Column[], after: readonly unknown[] | undefined): SQL | undefined {
  if (after === undefined) return undefined;
  if (keys.length === 1) return gt(keys[0] as never, after[0]);
  return sql`(${sql.join(keys, sql`, `)}) > (${sql.join(
    after.map((value) => sql`${value}`),
    sql`, `,
  )})`;
}

/** The JS property names of the key columns (the same in both schemas). */
export function keyNames(table: TableName): string[] {
  return table === 'memberships' ? ['roomId', 'userId'] : ['id'];
}

export { pgSchema, sqliteSchema };
