import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, messages, rooms, users } from '../db/schema.ts';
import type { MessageDto } from '../schemas.ts';

const messageColumns = {
  id: messages.id,
  seq: messages.seq,
  author: users.username,
  text: messages.text,
  createdAt: messages.createdAt,
  clientId: messages.clientId,
};

type MessageRow = { id: number; seq: number; author: string; text: string; createdAt: Date; clientId: string | null };

function toDto(room: string, row: MessageRow): MessageDto {
  return { ...row, room, createdAt: row.createdAt.toISOString() };
}

export interface PageRequest {
  before?: number | undefined;
  after?: number | undefined;
  limit: number;
}

/**
 * A page of a room's messages in ascending seq. Without a cursor: the newest `limit`.
 * `before`: the `limit` messages just older than that seq. `after`: the `limit` just newer.
 * One extra row is read to tell whether more exist in that direction.
 */
export function listMessages(
  db: Db,
  room: { id: number; name: string },
  page: PageRequest,
): { messages: MessageDto[]; hasMore: boolean } {
  const forward = page.after !== undefined;
  const cursor =
    page.after !== undefined
      ? gt(messages.seq, page.after)
      : page.before !== undefined
        ? lt(messages.seq, page.before)
        : undefined;
  const rows = db
    .select(messageColumns)
    .from(messages)
    .innerJoin(users, eq(users.id, messages.authorId))
    .where(cursor ? and(eq(messages.roomId, room.id), cursor) : eq(messages.roomId, room.id))
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(page.limit + 1)
    .all();
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (!forward) pageRows.reverse();
  return { messages: pageRows.map((row) => toDto(room.name, row)), hasMore };
}

export interface NewMessage {
  room: { id: number; name: string };
  author: { id: number; username: string };
  text: string;
  clientId: string | null;
  now: Date;
}

export type InsertResult =
  | { kind: 'inserted'; message: MessageDto }
  | { kind: 'duplicate'; message: MessageDto }
  | { kind: 'clientIdConflict' };

/**
 * Inserts a message and bumps every counter in one write transaction, so counts always match
 * the messages. A repeated clientId from the same author returns the stored message instead.
 */
export function insertMessage(db: Db, input: NewMessage): InsertResult {
  return db.transaction(() => insertInTransaction(db, input), { behavior: 'immediate' });
}

/**
 * Inserts several messages in one write transaction (one fsync for all of them): results in the
 * order given, each exactly as insertMessage would have answered it alone.
 */
export function insertMessages(db: Db, inputs: readonly NewMessage[]): InsertResult[] {
  return db.transaction(() => inputs.map((input) => insertInTransaction(db, input)), { behavior: 'immediate' });
}

/**
 * The body of an insert; the caller holds the write transaction. better-sqlite3 runs every query on
 * one connection, so queries issued through `db` here belong to that transaction.
 */
function insertInTransaction(tx: Db, input: NewMessage): InsertResult {
  if (input.clientId !== null) {
    const existing = tx
      .select({ ...messageColumns, roomId: messages.roomId, roomName: rooms.name })
      .from(messages)
      .innerJoin(users, eq(users.id, messages.authorId))
      .innerJoin(rooms, eq(rooms.id, messages.roomId))
      .where(and(eq(messages.authorId, input.author.id), eq(messages.clientId, input.clientId)))
      .get();
    if (existing) {
      const { roomId, roomName, ...row } = existing;
      if (roomId !== input.room.id || row.text !== input.text) return { kind: 'clientIdConflict' };
      return { kind: 'duplicate', message: toDto(roomName, row) };
    }
  }
  const bumped = tx
    .update(rooms)
    .set({
      lastSeq: sql`${rooms.lastSeq} + 1`,
      messageCount: sql`${rooms.messageCount} + 1`,
      lastMessageAt: input.now,
    })
    .where(eq(rooms.id, input.room.id))
    .returning({ seq: rooms.lastSeq })
    .get();
  if (!bumped) throw new Error(`room ${input.room.id} vanished inside its own transaction`);
  const inserted = tx
    .insert(messages)
    .values({
      roomId: input.room.id,
      seq: bumped.seq,
      authorId: input.author.id,
      text: input.text,
      clientId: input.clientId,
      createdAt: input.now,
    })
    .returning({ id: messages.id })
    .get();
  if (!inserted) throw new Error('message insert returned no row');
  tx.update(users)
    .set({ messageCount: sql`${users.messageCount} + 1` })
    .where(eq(users.id, input.author.id))
    .run();
  tx.update(memberships)
    .set({ messageCount: sql`${memberships.messageCount} + 1` })
    .where(and(eq(memberships.roomId, input.room.id), eq(memberships.userId, input.author.id)))
    .run();
  return {
    kind: 'inserted',
    message: {
      id: inserted.id,
      room: input.room.name,
      seq: bumped.seq,
      author: input.author.username,
      text: input.text,
      createdAt: input.now.toISOString(),
      clientId: input.clientId,
    },
  };
}
