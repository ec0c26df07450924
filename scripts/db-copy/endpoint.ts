import type { IdTableName, Row, Table } from './tables.ts';

/** One side of a copy: a database of either backend, opened with the current schema. */
export interface Endpoint {
  /** 'sqlite ./data/atlas-chat.db' or 'postgres host:5432/atlas', for messages. */
  readonly description: string;
  /** Reads from one consistent snapshot until close. */
  startReading(): Promise<void>;
  count(table: Table): Promise<number>;
  /** Up to `limit` rows after `after` (a row's key values; undefined: from the start), in key order. */
  read(table: Table, after: unknown[] | undefined, limit: number): Promise<Row[]>;
  /** The largest id ever issued per table, by SQL name (SQLite's sqlite_sequence, PostgreSQL's identity sequences). */
  lastIds(): Promise<Record<IdTableName, number>>;
  /** Opens the write transaction: everything written commits at once, or not at all. */
  startWriting(): Promise<void>;
  /** Deletes every row of every table (inside the write transaction). */
  clear(): Promise<void>;
  write(table: Table, rows: Row[]): Promise<void>;
  /** Sets the id counters so the next ids continue where the source's would. */
  setLastIds(lastIds: Record<IdTableName, number>): Promise<void>;
  commit(): Promise<void>;
  close(): Promise<void>;
}
