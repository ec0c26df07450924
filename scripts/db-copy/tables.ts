import { type Column, getTableColumns, getTableName, gt, type SQL, sql } from 'drizzle-orm';
import * as sqliteSchema from '../../server/db/schema.ts';
import * as pgSchema from '../../server/db/schema-pg.ts';

/** The export name of a table in schema.ts and schema-pg.ts (they share them). */
type SchemaKey = keyof typeof sqliteSchema & keyof typeof pgSchema;

interface TableSpec {
  /** How Drizzle knows the table: its export in both schema modules (`messageChanges`). */
  readonly key: SchemaKey;
  /** How SQL and the operator know it (`message_changes`): raw SQL, id sequences, progress lines. */
  readonly name: string;
  /** The primary key's properties in key order: reads page by it, so a batch resumes after a row. */
  readonly keys: readonly string[];
  /** Has an auto-increment / identity id whose counter is copied too. */
  readonly idCounter: boolean;
}

/**
 * Every table, parents first so foreign keys hold at every insert: rooms after users (created_by),
 * reactions and message_mentions after messages and users. messages.reply_to is a seq in the same room, not a foreign key,
 * so replies need no order among messages. message_changes comes with rooms.last_change and
 * messages.created_change: together they are the change log live event ids (`c<change>`) point into.
 */
export const TABLES = [
  { key: 'users', name: 'users', keys: ['id'], idCounter: true },
  { key: 'sessions', name: 'sessions', keys: ['id'], idCounter: true },
  { key: 'rooms', name: 'rooms', keys: ['id'], idCounter: true },
  { key: 'memberships', name: 'memberships', keys: ['roomId', 'userId'], idCounter: false },
  { key: 'messages', name: 'messages', keys: ['id'], idCounter: true },
  { key: 'reactions', name: 'reactions', keys: ['id'], idCounter: true },
  { key: 'messageChanges', name: 'message_changes', keys: ['roomId', 'change'], idCounter: false },
  { key: 'messageMentions', name: 'message_mentions', keys: ['messageId', 'userId'], idCounter: false },
] as const satisfies readonly TableSpec[];

export type Table = (typeof TABLES)[number];
/** A table's SQL name: what summaries, progress and the non-empty check report. */
export type TableName = Table['name'];
export type IdTable = Extract<Table, { idCounter: true }>;
export type IdTableName = IdTable['name'];

export const ID_TABLES = TABLES.filter((table): table is IdTable => table.idCounter);

// A table added to the schema but not above would silently be left behind by every copy; a
// mistyped name would break only on the first copy. Both fail here, on import, instead.
for (const [schemaName, schema] of [
  ['schema.ts', sqliteSchema],
  ['schema-pg.ts', pgSchema],
] as const) {
  const listed = new Set<string>(TABLES.map((table) => table.key));
  const missing = Object.keys(schema).filter((key) => !listed.has(key));
  if (missing.length > 0) throw new Error(`db:copy does not copy ${missing.join(', ')} of ${schemaName}`);
  for (const table of TABLES) {
    const actual = getTableName(schema[table.key]);
    if (actual !== table.name) throw new Error(`${schemaName}: ${table.key} is table ${actual}, not ${table.name}`);
  }
}

/** A row as Drizzle reads it on either backend: the two schemas share property names and JS types. */
export type Row = Record<string, unknown>;

/** The primary key columns, in key order, of a table in a schema. */
export function keyColumns(schema: typeof sqliteSchema | typeof pgSchema, table: Table): Column[] {
  const columns = getTableColumns(schema[table.key]) as Record<string, Column>;
  return table.keys.map((key) => columns[key] as Column);
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

export { pgSchema, sqliteSchema };
