import { and, asc, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm';
import { alias, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { orderMentions } from '../../shared/mentions.ts';
import type { Db } from '../db/client.ts';
import { memberships, messageMentions, messages, reactions, rooms, users } from '../db/schema.ts';
import type { MessageDto } from '../schemas.ts';
import { groupMentions, groupReactions, type MessageRow, replyPreviewOf, toMessageDto } from './dto.ts';
import { perDatabase } from './prepared.ts';
import type { InsertResult, MessagePage, NewMessage, PageRequest } from './store.ts';

/** The message replied to (same room, that seq) and its author: aliases for the left joins. */
const original = alias(messages, 'original');
const originalAuthor = alias(users, 'original_author');

export const messageColumns = {
  id: messages.id,
  seq: messages.seq,
  author: users.username,
  text: messages.text,
  createdAt: messages.createdAt,
  clientId: messages.clientId,
  editedAt: messages.editedAt,
  deletedAt: messages.deletedAt,
  replySeq: original.seq,
  replyAuthor: originalAuthor.username,
  replyText: original.text,
  replyDeletedAt: original.deletedAt,
};

/** messages with its author and the message it replies to: every read of full messages starts here. */
export function selectMessages(db: Db) {
  return db
    .select(messageColumns)
    .from(messages)
    .innerJoin(users, eq(users.id, messages.authorId))
    .leftJoin(original, and(eq(original.roomId, messages.roomId), eq(original.seq, messages.replyTo)))
    .leftJoin(originalAuthor, eq(originalAuthor.id, original.authorId));
}

/** `column in (the JSON array bound to placeholder `name`)`: one prepared statement for any number of values. */
const inJsonArray = (column: SQL | SQLiteColumn, name: string) =>
  sql`${column} in (select value from json_each(${sql.placeholder(name)}))`;

/**
 * The per-page lookups, prepared once per database. Built per call with inArray they cost more than
 * running them: building and preparing the two queries was a third of a history page's CPU
 * (decision 011). The ids travel as one JSON array, so the statement does not depend on how many.
 */
const pageLookups = perDatabase((db) => ({
  reactions: db
    .select({ messageId: reactions.messageId, emoji: reactions.emoji, username: users.username })
    .from(reactions)
    .innerJoin(users, eq(users.id, reactions.userId))
    .where(inJsonArray(reactions.messageId, 'ids'))
    .orderBy(asc(reactions.id))
    .prepare(),
  mentions: db
    .select({ messageId: messageMentions.messageId, username: users.username })
    .from(messageMentions)
    .innerJoin(users, eq(users.id, messageMentions.userId))
    .where(inJsonArray(messageMentions.messageId, 'ids'))
    .prepare(),
  bySeqs: selectMessages(db)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), inJsonArray(messages.seq, 'seqs')))
    .prepare(),
  membersNamed: db
    .select({ id: users.id, username: users.username })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.roomId, sql.placeholder('roomId')), inJsonArray(sql`lower(${users.username})`, 'names')))
    .orderBy(asc(users.id))
    .prepare(),
}));

/** The reactions of the given messages, grouped per message in first-use order. */
export function reactionsOf(db: Db, messageIds: readonly number[]) {
  if (messageIds.length === 0) return new Map<number, MessageDto['reactions']>();
  return groupReactions(pageLookups(db).reactions.all({ ids: JSON.stringify(messageIds) }));
}

/** The usernames each of the given messages mentions. */
export function mentionsOf(db: Db, messageIds: readonly number[]) {
  if (messageIds.length === 0) return new Map<number, string[]>();
  return groupMentions(pageLookups(db).mentions.all({ ids: JSON.stringify(messageIds) }));
}

/** Full DTOs for rows read with messageColumns: one more query each for their reactions and mentions. */
export function toMessageDtos(db: Db, roomName: string, rows: readonly (MessageRow & { id: number })[]): MessageDto[] {
  const ids = rows.map((row) => row.id);
  const reactionsById = reactionsOf(db, ids);
  const mentionsById = mentionsOf(db, ids);
  return rows.map((row) => toMessageDto(roomName, row, reactionsById.get(row.id), mentionsById.get(row.id)));
}

/**
 * Records who a message mentions: the members of its room among `candidates` (lower-cased names
 * from shared/mentions.ts), replacing what it mentioned before. Resolves to their usernames.
 */
export function writeMentions(db: Db, roomId: number, messageId: number, candidates: readonly string[]): string[] {
  db.delete(messageMentions).where(eq(messageMentions.messageId, messageId)).run();
  const mentioned = membersNamed(db, roomId, candidates);
  if (mentioned.length > 0) {
    db.insert(messageMentions)
      .values(mentioned.map((user) => ({ messageId, userId: user.id })))
      .run();
  }
  return mentioned.map((user) => user.username);
}

/** The members of a room among these usernames, compared case-insensitively, by user id. */
export function membersNamed(db: Db, roomId: number, names: readonly string[]): { id: number; username: string }[] {
  if (names.length === 0) return [];
  // lower() on SQLite folds ASCII only; usernames are ASCII (USERNAME_PATTERN), so toLowerCase agrees.
  const lowered = [...new Set(names.map((name) => name.toLowerCase()))];
  return pageLookups(db).membersNamed.all({ roomId, names: JSON.stringify(lowered) });
}

/**
 * A page of a room's messages in ascending seq. Without a cursor: the newest `limit`.
 * `before`: the `limit` messages just older than that seq. `after`: the `limit` just newer.
 * One extra row is read to tell whether more exist in that direction.
 */
export function listMessages(db: Db, room: { id: number; name: string }, page: PageRequest): MessagePage {
  const queries = pageQueries(db);
  if (page.around !== undefined) return listAround(db, room, page.around, page.limit);
  const limit = page.limit + 1;
  const forward = page.after !== undefined;
  const rows =
    page.after !== undefined
      ? queries.after.all({ roomId: room.id, seq: page.after, limit })
      : page.before !== undefined
        ? queries.before.all({ roomId: room.id, seq: page.before, limit })
        : queries.newest.all({ roomId: room.id, limit });
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (!forward) pageRows.reverse();
  return { messages: toMessageDtos(db, room.name, pageRows), hasMore };
}

/**
 * A page centred on `around`: up to half the limit older than it, then it and newer ones up to the
 * limit (fewer older ones when the room starts sooner; the newer side takes what is left, and the
 * other way round at the end of the room).
 */
function listAround(db: Db, room: { id: number; name: string }, around: number, limit: number): MessagePage {
  const queries = pageQueries(db);
  const olderWanted = Math.floor((limit - 1) / 2);
  // One row more than either side can take: the row beyond the page is what hasMoreBefore/After see.
  const older = queries.before.all({ roomId: room.id, seq: around, limit: limit + 1 });
  const newer = queries.after.all({ roomId: room.id, seq: around - 1, limit: limit + 1 });
  const olderTaken = Math.min(older.length, Math.max(olderWanted, limit - newer.length));
  const newerTaken = Math.min(newer.length, limit - olderTaken);
  const rows = [...older.slice(0, olderTaken).reverse(), ...newer.slice(0, newerTaken)];
  const hasMoreBefore = older.length > olderTaken;
  const hasMoreAfter = newer.length > newerTaken;
  return {
    messages: toMessageDtos(db, room.name, rows),
    hasMore: hasMoreBefore || hasMoreAfter,
    hasMoreBefore,
    hasMoreAfter,
  };
}

/**
 * Several messages of a room by seq, as stored, in one query for the rows and one each for their
 * reactions and mentions (a catch-up page or a change's replies, not a query per message).
 */
export function getMessages(
  db: Db,
  room: { id: number; name: string },
  seqs: readonly number[],
): Map<number, MessageDto> {
  if (seqs.length === 0) return new Map();
  const rows = pageLookups(db).bySeqs.all({ roomId: room.id, seqs: JSON.stringify([...new Set(seqs)]) });
  return new Map(toMessageDtos(db, room.name, rows).map((message) => [message.seq, message]));
}

/** One message as stored (tombstones included). */
export function getMessage(db: Db, room: { id: number; name: string }, seq: number): MessageDto | undefined {
  const row = pageQueries(db).one.get({ roomId: room.id, seq });
  return row && toMessageDtos(db, room.name, [row])[0];
}

/** One prepared statement per page shape (live backfill and history paging run these constantly). */
const pageQueries = perDatabase((db) => {
  const page = (cursor: SQL | undefined, order: SQL) =>
    selectMessages(db)
      .where(and(eq(messages.roomId, sql.placeholder('roomId')), cursor))
      .orderBy(order)
      .limit(sql.placeholder('limit'))
      .prepare();
  return {
    newest: page(undefined, desc(messages.seq)),
    before: page(lt(messages.seq, sql.placeholder('seq')), desc(messages.seq)),
    after: page(gt(messages.seq, sql.placeholder('seq')), asc(messages.seq)),
    one: selectMessages(db)
      .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.seq, sql.placeholder('seq'))))
      .prepare(),
  };
});

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
 * The statements of an insert, prepared once per database: a post runs five of them, and building
 * and preparing each on every call cost more than executing it.
 *
 * A bare placeholder in insert values is encoded by its column (pass a Date to a timestamp_ms
 * column); placeholders in comparisons or inside sql`` are bound as given (pass epoch ms).
 */
const insertStatements = perDatabase((db) => ({
  existing: db
    .select({
      id: messages.id,
      seq: messages.seq,
      text: messages.text,
      changed: sql<number>`${messages.editedAt} is not null or ${messages.deletedAt} is not null`,
      roomId: messages.roomId,
      roomName: rooms.name,
    })
    .from(messages)
    .innerJoin(rooms, eq(rooms.id, messages.roomId))
    .where(and(eq(messages.authorId, sql.placeholder('authorId')), eq(messages.clientId, sql.placeholder('clientId'))))
    .prepare(),
  bumpRoom: db
    .update(rooms)
    .set({
      lastSeq: sql`${rooms.lastSeq} + 1`,
      lastChange: sql`${rooms.lastChange} + 1`,
      messageCount: sql`${rooms.messageCount} + 1`,
      // The set type takes no bare placeholder; inside sql`` it is bound as given, so epoch ms.
      lastMessageAt: sql`${sql.placeholder('nowMs')}`,
    })
    .where(eq(rooms.id, sql.placeholder('roomId')))
    .returning({ seq: rooms.lastSeq, change: rooms.lastChange })
    .prepare(),
  insert: db
    .insert(messages)
    .values({
      roomId: sql.placeholder('roomId'),
      seq: sql.placeholder('seq'),
      authorId: sql.placeholder('authorId'),
      text: sql.placeholder('text'),
      clientId: sql.placeholder('clientId'),
      createdAt: sql.placeholder('now'),
      replyTo: sql.placeholder('replyTo'),
      createdChange: sql.placeholder('change'),
    })
    .returning({ id: messages.id })
    .prepare(),
  bumpUser: db
    .update(users)
    .set({ messageCount: sql`${users.messageCount} + 1` })
    .where(eq(users.id, sql.placeholder('authorId')))
    .prepare(),
  bumpMembership: db
    .update(memberships)
    .set({ messageCount: sql`${memberships.messageCount} + 1` })
    .where(and(eq(memberships.roomId, sql.placeholder('roomId')), eq(memberships.userId, sql.placeholder('authorId'))))
    .prepare(),
}));

/**
 * The body of an insert; the caller holds the write transaction. better-sqlite3 runs every query on
 * one connection, so the prepared statements run here belong to that transaction.
 */
function insertInTransaction(db: Db, input: NewMessage): InsertResult {
  const statements = insertStatements(db);
  const authorId = input.author.id;
  const roomId = input.room.id;
  if (input.clientId !== null) {
    const existing = statements.existing.get({ authorId, clientId: input.clientId });
    if (existing) {
      // An edited or deleted message no longer has the text it was posted with, so a retry of that
      // post (same author, clientId and room) is recognised by those alone (decision 019).
      const retry = existing.roomId === roomId && (existing.text === input.text || existing.changed === 1);
      if (!retry) return { kind: 'clientIdConflict' };
      const message = getMessage(db, { id: existing.roomId, name: existing.roomName }, existing.seq);
      if (!message) throw new Error('a stored message vanished inside its own transaction');
      return { kind: 'duplicate', message };
    }
  }
  const bumped = statements.bumpRoom.get({ roomId, nowMs: input.now.getTime() });
  if (!bumped) throw new Error(`room ${roomId} vanished inside its own transaction`);
  // The quote is read here, inside the transaction, not taken from the caller's earlier read: an
  // edit or delete of the original committed in between would otherwise be missing from it for good.
  const original = input.replyTo ? getMessage(db, input.room, input.replyTo.seq) : undefined;
  const replyTo = original ? replyPreviewOf(original) : null;
  const inserted = statements.insert.get({
    roomId,
    seq: bumped.seq,
    authorId,
    text: input.text,
    clientId: input.clientId,
    now: input.now,
    replyTo: replyTo?.seq ?? null,
    change: bumped.change,
  });
  if (!inserted) throw new Error('message insert returned no row');
  statements.bumpUser.run({ authorId });
  statements.bumpMembership.run({ roomId, authorId });
  const mentions = input.mentions?.length ? writeMentions(db, roomId, inserted.id, input.mentions) : [];
  return {
    kind: 'inserted',
    change: bumped.change,
    message: {
      id: inserted.id,
      room: input.room.name,
      seq: bumped.seq,
      author: input.author.username,
      text: input.text,
      createdAt: input.now.toISOString(),
      clientId: input.clientId,
      editedAt: null,
      deletedAt: null,
      reactions: [],
      replyTo,
      mentions: orderMentions(input.text, mentions),
    },
  };
}
