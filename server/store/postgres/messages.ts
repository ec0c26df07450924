import { and, asc, desc, eq, gt, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import { alias, type PgDatabase } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { orderMentions } from '../../../shared/mentions.ts';
import { MAX_REACTIONS_PER_MESSAGE } from '../../../shared/rules.ts';
import * as schema from '../../db/schema-pg.ts';
import {
  groupMentions,
  groupReactions,
  type MentionRow,
  type MessageRow,
  type ReactionRow,
  replyPreviewOf,
  toMessageDto,
} from '../dto.ts';
import {
  CHANGE_LOG_LENGTH,
  type ChangeResult,
  type InsertResult,
  type MessageDto,
  type MessagePage,
  type MessageStore,
  type NewMessage,
  type PageRequest,
  type RoomChange,
  type RoomRow,
} from '../store.ts';
import { guarded, sqlState } from './errors.ts';
import type { PgDb } from './open.ts';

const { memberships, messageChanges, messageMentions, messages, reactions, rooms, users } = schema;

/** The pool or a transaction: what the message reads run on. */
export type Queryable = PgDatabase<NodePgQueryResultHKT, typeof schema>;

/** The message replied to, joined on the same room's seq, and its author. */
const replied = alias(messages, 'replied');
const repliedAuthor = alias(users, 'replied_author');

const messageColumns = {
  id: messages.id,
  seq: messages.seq,
  author: users.username,
  text: messages.text,
  createdAt: messages.createdAt,
  clientId: messages.clientId,
  editedAt: messages.editedAt,
  deletedAt: messages.deletedAt,
  replySeq: replied.seq,
  replyAuthor: repliedAuthor.username,
  replyText: replied.text,
  replyDeletedAt: replied.deletedAt,
};

/** Every message read goes through this: the row of MessageRow, the quote included. */
export function selectMessages(q: Queryable) {
  return q
    .select(messageColumns)
    .from(messages)
    .innerJoin(users, eq(users.id, messages.authorId))
    .leftJoin(replied, and(eq(replied.roomId, messages.roomId), eq(replied.seq, messages.replyTo)))
    .leftJoin(repliedAuthor, eq(repliedAuthor.id, replied.authorId));
}

const reactionColumns = { messageId: reactions.messageId, emoji: reactions.emoji, username: users.username };

/** The reactions of some messages in first-use order (reactions.id), for groupReactions. */
export function selectReactions(q: Queryable, messageIds: SQL) {
  return q
    .select(reactionColumns)
    .from(reactions)
    .innerJoin(users, eq(users.id, reactions.userId))
    .where(sql`${reactions.messageId} = any(${messageIds}::bigint[])`)
    .orderBy(asc(reactions.id));
}

/** Who some messages mention (issue 13), for groupMentions; toMessageDto orders them by the text. */
function selectMentions(q: Queryable, messageIds: SQL) {
  return q
    .select({ messageId: messageMentions.messageId, username: users.username })
    .from(messageMentions)
    .innerJoin(users, eq(users.id, messageMentions.userId))
    .where(sql`${messageMentions.messageId} = any(${messageIds}::bigint[])`);
}

function toDtos(
  room: RoomRow,
  rows: readonly MessageRow[],
  reactionRows: readonly ReactionRow[],
  mentionRows: readonly MentionRow[],
): MessageDto[] {
  const reactionsById = groupReactions(reactionRows);
  const mentionsById = groupMentions(mentionRows);
  return rows.map((row) => toMessageDto(room.name, row, reactionsById.get(row.id) ?? [], mentionsById.get(row.id)));
}

/** Full DTOs of some messages of a room (any order asked; answered by seq), on `q`. */
async function readMessages(q: Queryable, room: RoomRow, seqs: readonly number[]): Promise<Map<number, MessageDto>> {
  if (seqs.length === 0) return new Map();
  const rows = await selectMessages(q)
    .where(and(eq(messages.roomId, room.id), inArray(messages.seq, [...seqs])))
    .orderBy(asc(messages.seq));
  if (rows.length === 0) return new Map();
  const ids = sql`${sql.param(rows.map((row) => row.id))}`;
  const reactionRows = await selectReactions(q, ids).execute();
  const mentionRows = await selectMentions(q, ids).execute();
  return new Map(toDtos(room, rows, reactionRows, mentionRows).map((message) => [message.seq, message]));
}

/**
 * The post transaction: one call of atlas_insert_messages (drizzle/postgres/0005_insert_messages_v3.sql)
 * per batch, as one autocommit statement, so a burst costs one round trip and one commit, mentions
 * included. Named, so each pooled connection plans it once.
 */
const INSERT_BATCH: pg.QueryConfig = {
  name: 'atlas_insert_messages_v3',
  text: 'select out_kind, out_id, out_seq, out_created_at, out_change, out_mentions from atlas_insert_messages($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[], $7::integer[], $8::text[])',
};

type InsertRow = {
  out_kind: string;
  out_id: string | null;
  out_seq: string | null;
  out_created_at: Date | null;
  out_change: string | null;
  out_mentions: string[] | null;
};

/**
 * A room's changes after a change, posts and log rows merged, at most $3 of them (the caller asks
 * one more to tell hasMore). ONE statement, so one snapshot: read as two, a post committed between
 * them could be missed while a later logged change is seen, and a client resuming from that later
 * change would never get the post.
 */
const CHANGES: pg.QueryConfig = {
  name: 'atlas_changes',
  text: `select kind, change, seq from (
      (select 'message' as kind, m.created_change as change, m.seq from messages m
        where m.room_id = $1 and m.created_change > $2 order by m.created_change limit $3)
      union all
      (select 'update' as kind, c.change, c.seq from message_changes c
        where c.room_id = $1 and c.change > $2 order by c.change limit $3)
    ) as merged order by change limit $3`,
};

type ChangeRow = { kind: 'message' | 'update'; change: string; seq: string };

/**
 * deadlock_detected and serialization_failure roll the statement back as a whole (no seq taken), and
 * the batch can simply run again. The function locks in one global order, so neither is expected;
 * this is the safety net for lock orders it does not control (e.g. an operator's own transaction).
 */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

/** What a change transaction decided before any room change was taken. */
type Outcome = Exclude<ChangeResult, { kind: 'changed' }> | { kind: 'write'; replies: boolean };

export function pgMessageStore(
  db: PgDb,
  pool: pg.Pool,
  onRetry: (sqlState: string, attempt: number) => void = () => {},
): Omit<MessageStore, 'search'> {
  const page = (cursor: SQL | undefined, order: SQL, name: string) =>
    selectMessages(db)
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
  const pageReactions = selectReactions(db, sql`${sql.placeholder('ids')}`).prepare('atlas_page_reactions');
  const pageMentions = selectMentions(db, sql`${sql.placeholder('ids')}`).prepare('atlas_page_mentions');
  const bySeq = selectMessages(db)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.seq, sql.placeholder('seq'))))
    .prepare('atlas_message_by_seq');
  const changeOfSeq = db
    .select({ change: messages.createdChange })
    .from(messages)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.seq, sql.placeholder('seq'))))
    .prepare('atlas_change_of_seq');

  /** DTOs of rows read by a prepared page or lookup, with their reactions and mentions (a query each). */
  async function withDetails(room: RoomRow, rows: MessageRow[]): Promise<MessageDto[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const [reactionRows, mentionRows] = [await pageReactions.execute({ ids }), await pageMentions.execute({ ids })];
    return toDtos(room, rows, reactionRows, mentionRows);
  }

  /**
   * A page centred on `around`, as SQLite's listAround (server/store/messages.ts) builds it from the
   * same two reads: up to half the limit older, then it and newer ones up to the limit, a short side
   * leaving its share to the other. Two statements, not one snapshot: seqs below `around` are never
   * added, so the halves cannot overlap or leave a gap; an edit between them is as fresh as a page
   * read a moment later.
   */
  async function listAround(room: RoomRow, around: number, limit: number): Promise<MessagePage> {
    const olderWanted = Math.floor((limit - 1) / 2);
    // One row more than either side can take: the row beyond the page is what hasMoreBefore/After see.
    const older = await pages.before.execute({ roomId: room.id, seq: around, limit: limit + 1 });
    const newer = await pages.after.execute({ roomId: room.id, seq: around - 1, limit: limit + 1 });
    const olderTaken = Math.min(older.length, Math.max(olderWanted, limit - newer.length));
    const newerTaken = Math.min(newer.length, limit - olderTaken);
    const rows = [...older.slice(0, olderTaken).reverse(), ...newer.slice(0, newerTaken)];
    const hasMoreBefore = older.length > olderTaken;
    const hasMoreAfter = newer.length > newerTaken;
    return {
      messages: await withDetails(room, rows),
      hasMore: hasMoreBefore || hasMoreAfter,
      hasMoreBefore,
      hasMoreAfter,
    };
  }

  async function list(room: RoomRow, request: PageRequest): Promise<MessagePage> {
    if (request.around !== undefined) return listAround(room, request.around, request.limit);
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
    return { messages: await withDetails(room, pageRows), hasMore };
  }

  async function get(room: RoomRow, seq: number): Promise<MessageDto | undefined> {
    const rows = await bySeq.execute({ roomId: room.id, seq });
    return (await withDetails(room, rows))[0];
  }

  async function runBatch(inputs: readonly NewMessage[]): Promise<InsertRow[]> {
    // Each post's candidates, flattened into two parallel arrays (post number from 1, name).
    const mentionPosts: number[] = [];
    const mentionNames: string[] = [];
    for (const [index, input] of inputs.entries()) {
      for (const name of input.mentions ?? []) {
        mentionPosts.push(index + 1);
        mentionNames.push(name);
      }
    }
    const values = [
      inputs.map((input) => input.room.id),
      inputs.map((input) => input.author.id),
      inputs.map((input) => input.text),
      inputs.map((input) => input.clientId),
      inputs.map((input) => input.now.toISOString()),
      inputs.map((input) => input.replyTo?.seq ?? null),
      mentionPosts,
      mentionNames,
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
      const results: InsertResult[] = [];
      for (const [index, input] of inputs.entries()) {
        const row = rows[index] as InsertRow;
        if (row.out_kind === 'conflict') {
          results.push({ kind: 'clientIdConflict' });
          continue;
        }
        if (row.out_id === null || row.out_seq === null || row.out_created_at === null) {
          throw new Error(`atlas_insert_messages answered ${row.out_kind} without a message`);
        }
        const seq = Number(row.out_seq);
        if (row.out_kind === 'duplicate') {
          // The stored message as it is now: edited, reacted to or deleted since, maybe.
          const message = await get(input.room, seq);
          if (!message) throw new Error(`message ${input.room.name}#${seq} vanished after its duplicate was found`);
          results.push({ kind: 'duplicate', message });
          continue;
        }
        if (row.out_kind !== 'inserted' || row.out_change === null) {
          throw new Error(`atlas_insert_messages answered an unknown outcome "${row.out_kind}"`);
        }
        // Keys in toMessageDto's order, so even JSON key order matches the other backend.
        const message: MessageDto = {
          id: Number(row.out_id),
          room: input.room.name,
          seq,
          author: input.author.username,
          text: input.text,
          createdAt: row.out_created_at.toISOString(),
          clientId: input.clientId,
          editedAt: null,
          deletedAt: null,
          reactions: [],
          replyTo: null,
          mentions: orderMentions(input.text, row.out_mentions ?? []),
        };
        if (input.replyTo) {
          // Read after the commit, not taken from the caller's read before it: an edit or delete of
          // the original that committed in between would be missing from the quote for good, while
          // one committing after this read finds the (committed) reply and updates it.
          const original = await get(input.room, input.replyTo.seq);
          message.replyTo = original ? replyPreviewOf(original) : null;
        }
        results.push({ kind: 'inserted', change: Number(row.out_change), message });
      }
      return results;
    });

  /**
   * An edit, delete or reaction change: one transaction that locks the room row first (FOR NO KEY
   * UPDATE, as a post does, so it serialises with the room's posts and other changes, and lock order
   * stays rooms, then messages, users and memberships), reads the message, and lets `decide` write.
   * When it wrote, the room takes one change for the message, then one per message replying to it
   * (edit and delete change their quote), each logged in message_changes; log rows older than
   * CHANGE_LOG_LENGTH changes go; the changes carry the messages as read after the write.
   */
  function change(
    room: RoomRow,
    seq: number,
    decide: (
      tx: Queryable,
      message: { id: number; authorId: number; text: string; deleted: boolean },
    ) => Promise<Outcome>,
  ): Promise<ChangeResult> {
    return guarded(() =>
      db.transaction(async (tx): Promise<ChangeResult> => {
        const [locked] = await tx
          .select({ lastChange: rooms.lastChange })
          .from(rooms)
          .where(eq(rooms.id, room.id))
          .for('no key update');
        if (!locked) return { kind: 'notFound' };
        const [found] = await tx
          .select({ id: messages.id, authorId: messages.authorId, text: messages.text, deletedAt: messages.deletedAt })
          .from(messages)
          .where(and(eq(messages.roomId, room.id), eq(messages.seq, seq)));
        if (!found) return { kind: 'notFound' };
        const outcome = await decide(tx, { ...found, deleted: found.deletedAt !== null });
        if (outcome.kind !== 'write') return outcome;

        const replies = outcome.replies
          ? (
              await tx
                .select({ seq: messages.seq })
                .from(messages)
                .where(and(eq(messages.roomId, room.id), eq(messages.replyTo, seq)))
                .orderBy(asc(messages.seq))
            ).map((row) => row.seq)
          : [];
        const touched = [seq, ...replies];
        const first = locked.lastChange + 1;
        const last = locked.lastChange + touched.length;
        await tx.update(rooms).set({ lastChange: last }).where(eq(rooms.id, room.id));
        await tx
          .insert(messageChanges)
          .values(touched.map((touchedSeq, index) => ({ roomId: room.id, change: first + index, seq: touchedSeq })));
        await tx
          .delete(messageChanges)
          .where(and(eq(messageChanges.roomId, room.id), lte(messageChanges.change, last - CHANGE_LOG_LENGTH)));
        const read = await readMessages(tx, room, touched);
        const changes = touched.map((touchedSeq, index): RoomChange => {
          const message = read.get(touchedSeq);
          if (!message) throw new Error(`message ${room.name}#${touchedSeq} vanished inside its own change`);
          return { change: first + index, type: 'update', message };
        });
        return { kind: 'changed', message: (changes[0] as RoomChange).message, changes };
      }),
    );
  }

  /** The message as stored, for `unchanged`, read in the change's transaction. */
  async function unchanged(tx: Queryable, room: RoomRow, seq: number): Promise<Outcome> {
    const message = (await readMessages(tx, room, [seq])).get(seq);
    if (!message) throw new Error(`message ${room.name}#${seq} vanished inside its own transaction`);
    return { kind: 'unchanged', message };
  }

  return {
    list: (room, request) => guarded(() => list(room, request)),
    insertBatch,
    insertOne: async (input) => {
      const [result] = await insertBatch([input]);
      if (!result) throw new Error('atlas_insert_messages answered no row');
      return result;
    },
    get: (room, seq) => guarded(() => get(room, seq)),
    edit: (room, seq, text, now, mentions = []) =>
      change(room, seq, async (tx, message) => {
        if (message.deleted) return { kind: 'deleted' };
        // Same text: nothing happens, editedAt included.
        if (message.text === text) return unchanged(tx, room, seq);
        await tx.update(messages).set({ text, editedAt: now }).where(eq(messages.id, message.id));
        // Mentions follow the text: the new version's, in the same transaction. One statement, as the
        // room lock is held: the rows of members no longer named go, the newly named come (disjoint
        // rows, so the order in which PostgreSQL runs the two parts does not matter).
        const names = [...new Set(mentions.map((name) => name.toLowerCase()))];
        await tx.execute(sql`with named as (
            select ${users.id} as id from ${memberships} join ${users} on ${users.id} = ${memberships.userId}
            where ${memberships.roomId} = ${room.id} and lower(${users.username}) = any(${sql.param(names)}::text[])
          ), gone as (
            delete from ${messageMentions} where ${messageMentions.messageId} = ${message.id}
              and ${messageMentions.userId} not in (select id from named)
          )
          insert into ${messageMentions} (message_id, user_id) select ${message.id}, named.id from named
          on conflict do nothing`);
        return { kind: 'write', replies: true };
      }),
    delete: (room, seq, now) =>
      change(room, seq, async (tx, message) => {
        if (message.deleted) return unchanged(tx, room, seq);
        // The text is really gone, not hidden; so are the reactions and mentions.
        await tx.update(messages).set({ text: '', deletedAt: now }).where(eq(messages.id, message.id));
        // One statement for both, as the room lock is held.
        await tx.execute(sql`with reacted as (delete from ${reactions} where ${reactions.messageId} = ${message.id})
          delete from ${messageMentions} where ${messageMentions.messageId} = ${message.id}`);
        // A deleted message counts nowhere (issue 12). In lock order: room, user, membership.
        await tx
          .update(rooms)
          .set({ messageCount: sql`${rooms.messageCount} - 1` })
          .where(eq(rooms.id, room.id));
        await tx
          .update(users)
          .set({ messageCount: sql`${users.messageCount} - 1` })
          .where(eq(users.id, message.authorId));
        await tx
          .update(memberships)
          .set({ messageCount: sql`${memberships.messageCount} - 1` })
          .where(and(eq(memberships.roomId, room.id), eq(memberships.userId, message.authorId)));
        return { kind: 'write', replies: true };
      }),
    react: (room, seq, userId, emoji) =>
      change(room, seq, async (tx, message) => {
        if (message.deleted) return { kind: 'deleted' };
        const used = await tx
          .selectDistinct({ emoji: reactions.emoji })
          .from(reactions)
          .where(eq(reactions.messageId, message.id));
        if (!used.some((row) => row.emoji === emoji) && used.length >= MAX_REACTIONS_PER_MESSAGE) {
          return { kind: 'tooManyReactions' };
        }
        // The room lock serialises this with every other change of the message: no race to lose.
        const inserted = await tx
          .insert(reactions)
          .values({ messageId: message.id, userId, emoji })
          .onConflictDoNothing()
          .returning({ id: reactions.id });
        if (inserted.length === 0) return unchanged(tx, room, seq);
        return { kind: 'write', replies: false };
      }),
    unreact: (room, seq, userId, emoji) =>
      change(room, seq, async (tx, message) => {
        if (message.deleted) return { kind: 'deleted' };
        const removed = await tx
          .delete(reactions)
          .where(and(eq(reactions.messageId, message.id), eq(reactions.userId, userId), eq(reactions.emoji, emoji)))
          .returning({ id: reactions.id });
        if (removed.length === 0) return unchanged(tx, room, seq);
        return { kind: 'write', replies: false };
      }),
    changes: (room, after, limit) =>
      guarded(async () => {
        const { rows } = await pool.query<ChangeRow>(CHANGES, [room.id, after, limit + 1]);
        const hasMore = rows.length > limit;
        const picked = rows.slice(0, limit).map((row) => ({
          change: Number(row.change),
          type: row.kind,
          seq: Number(row.seq),
        }));
        // The messages as they are now (the contract: earlier versions are gone by design).
        const read = await readMessages(db, room, [...new Set(picked.map((row) => row.seq))]);
        const changes = picked.map((row): RoomChange => {
          const message = read.get(row.seq);
          if (!message) throw new Error(`message ${room.name}#${row.seq} of change ${row.change} not found`);
          return { change: row.change, type: row.type, message };
        });
        return { changes, hasMore };
      }),
    changeOfSeq: (room, seq) =>
      guarded(async () => {
        if (seq === 0) return 0;
        const [row] = await changeOfSeq.execute({ roomId: room.id, seq });
        return row?.change;
      }),
  };
}
