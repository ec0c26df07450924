import { and, asc, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import { messages, users } from '../../db/schema-pg.ts';
import { toMessageDto } from '../dto.ts';
import type { InsertResult, MessageStore, NewMessage, RoomRow } from '../store.ts';
import { guarded, sqlState } from './errors.ts';
import type { PgDb } from './open.ts';

const messageColumns = {
  id: messages.id,
  seq: messages.seq,
  author: users.username,
  text: messages.text,
  createdAt: messages.createdAt,
  clientId: messages.clientId,
};

/**
 * The post transaction: one call of atlas_insert_messages (drizzle/postgres/0001_insert_messages.sql)
 * per batch, as one autocommit statement, so a burst costs one round trip and one commit. Named, so
 * each pooled connection plans it once.
 */
const INSERT_BATCH: pg.QueryConfig = {
  name: 'atlas_insert_messages',
  text: 'select out_kind, out_id, out_seq, out_created_at, out_change from atlas_insert_messages($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[])',
};

type InsertRow = { out_kind: string; out_id: string | null; out_seq: string | null; out_created_at: Date | null };

/**
 * deadlock_detected and serialization_failure roll the statement back as a whole (no seq taken), and
 * the batch can simply run again. The function locks in one global order, so neither is expected;
 * this is the safety net for lock orders it does not control (e.g. an operator's own transaction).
 */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

export function pgMessageStore(
  db: PgDb,
  pool: pg.Pool,
  onRetry: (sqlState: string, attempt: number) => void = () => {},
): MessageStore {
  const page = (cursor: SQL | undefined, order: SQL, name: string) =>
    db
      .select(messageColumns)
      .from(messages)
      .innerJoin(users, eq(users.id, messages.authorId))
      .where(and(eq(messages.roomId, sql.placeholder('roomId')), cursor))
      .orderBy(order)
      .limit(sql.placeholder('limit'))
      .prepare(name);
  // Live backfill and history paging run these constantly.
  const pages = {
    newest: page(undefined, desc(messages.seq), 'atlas_page_newest'),
    before: page(lt(messages.seq, sql.placeholder('seq')), desc(messages.seq), 'atlas_page_before'),
    after: page(gt(messages.seq, sql.placeholder('seq')), asc(messages.seq), 'atlas_page_after'),
  };

  async function runBatch(inputs: readonly NewMessage[]): Promise<InsertRow[]> {
    const values = [
      inputs.map((input) => input.room.id),
      inputs.map((input) => input.author.id),
      inputs.map((input) => input.text),
      inputs.map((input) => input.clientId),
      inputs.map((input) => input.now.toISOString()),
      inputs.map((input) => input.replyTo?.seq ?? null),
    ];
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await pool.query<InsertRow>(INSERT_BATCH, values)).rows;
      } catch (error) {
        const state = sqlState(error);
        if (attempt >= MAX_ATTEMPTS || state === undefined || !RETRYABLE.has(state)) throw error;
        onRetry(state, attempt);
      }
    }
  }

  const insertBatch = (inputs: readonly NewMessage[]): Promise<InsertResult[]> =>
    guarded(async () => {
      if (inputs.length === 0) return [];
      const rows = await runBatch(inputs);
      if (rows.length !== inputs.length) {
        throw new Error(`atlas_insert_messages answered ${rows.length} rows for ${inputs.length} posts`);
      }
      return inputs.map((input, index): InsertResult => {
        const row = rows[index] as InsertRow;
        if (row.out_kind === 'conflict') return { kind: 'clientIdConflict' };
        if (row.out_id === null || row.out_seq === null || row.out_created_at === null) {
          throw new Error(`atlas_insert_messages answered ${row.out_kind} without a message`);
        }
        const id = Number(row.out_id);
        const seq = Number(row.out_seq);
        const createdAt = row.out_created_at.toISOString();
        const room = input.room.name;
        const author = input.author.username;
        const { text, clientId } = input;
        // Keys in the order SQLite's store builds them, so even JSON key order matches.
        if (row.out_kind === 'inserted') {
          return { kind: 'inserted', message: { id, room, seq, author, text, createdAt, clientId } };
        }
        if (row.out_kind === 'duplicate') {
          return { kind: 'duplicate', message: { id, room, seq, author, text, createdAt, clientId } };
        }
        throw new Error(`atlas_insert_messages answered an unknown outcome "${row.out_kind}"`);
      });
    });

  return {
    list: (room: RoomRow, request) =>
      guarded(async () => {
        const limit = request.limit + 1;
        const forward = request.after !== undefined;
        const rows =
          request.after !== undefined
            ? await pages.after.execute({ roomId: room.id, seq: request.after, limit })
            : request.before !== undefined
              ? await pages.before.execute({ roomId: room.id, seq: request.before, limit })
              : await pages.newest.execute({ roomId: room.id, limit });
        const hasMore = rows.length > request.limit;
        const pageRows = rows.slice(0, request.limit);
        if (!forward) pageRows.reverse();
        return { messages: pageRows.map((row) => toMessageDto(room.name, row)), hasMore };
      }),
    insertBatch,
    insertOne: async (input) => {
      const [result] = await insertBatch([input]);
      if (!result) throw new Error('atlas_insert_messages answered no row');
      return result;
    },
  };
}
