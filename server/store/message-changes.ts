import { and, asc, count, eq, gt, lte, sql } from 'drizzle-orm';
import { MAX_REACTIONS_PER_MESSAGE } from '../../shared/rules.ts';
import type { Db } from '../db/client.ts';
import { memberships, messageChanges, messageMentions, messages, reactions, rooms, users } from '../db/schema.ts';
import { getMessage, getMessages, writeMentions } from './messages.ts';
import { perDatabase } from './prepared.ts';
import { CHANGE_LOG_LENGTH, type ChangePage, type ChangeResult, type RoomChange, type RoomRow } from './store.ts';

/**
 * Edits, deletes and reaction changes on SQLite, and the room's change feed (decision 019). Each
 * change is one IMMEDIATE transaction: check the message, write, take the room's next change
 * number, log it, prune the log, read the message back. Publishing is the caller's, after commit.
 */

type Stored = { id: number; authorId: number; text: string; deletedAt: Date | null };

const statements = perDatabase((db) => ({
  stored: db
    .select({ id: messages.id, authorId: messages.authorId, text: messages.text, deletedAt: messages.deletedAt })
    .from(messages)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.seq, sql.placeholder('seq'))))
    .prepare(),
  nextChange: db
    .update(rooms)
    .set({ lastChange: sql`${rooms.lastChange} + 1` })
    .where(eq(rooms.id, sql.placeholder('roomId')))
    .returning({ change: rooms.lastChange })
    .prepare(),
  log: db
    .insert(messageChanges)
    .values({ roomId: sql.placeholder('roomId'), change: sql.placeholder('change'), seq: sql.placeholder('seq') })
    .prepare(),
  prune: db
    .delete(messageChanges)
    .where(
      and(eq(messageChanges.roomId, sql.placeholder('roomId')), lte(messageChanges.change, sql.placeholder('oldest'))),
    )
    .prepare(),
  replies: db
    .select({ seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.replyTo, sql.placeholder('seq'))))
    .orderBy(asc(messages.seq))
    .prepare(),
}));

function write(db: Db, work: () => ChangeResult): ChangeResult {
  return db.transaction(work, { behavior: 'immediate' });
}

/**
 * Takes one change number per message touched (the message itself first, then the given replies),
 * logs them, prunes what falls out of the log and reads the messages back, inside the transaction.
 */
function recordChanges(db: Db, room: RoomRow, seqs: readonly number[]): RoomChange[] {
  const s = statements(db);
  const numbered: { change: number; seq: number }[] = [];
  for (const seq of seqs) {
    const next = s.nextChange.get({ roomId: room.id });
    if (!next) throw new Error(`room ${room.id} vanished inside its own transaction`);
    s.log.run({ roomId: room.id, change: next.change, seq });
    numbered.push({ change: next.change, seq });
  }
  s.prune.run({ roomId: room.id, oldest: (numbered.at(-1)?.change ?? 0) - CHANGE_LOG_LENGTH });
  const read = getMessages(db, room, seqs);
  return numbered.map(({ change, seq }) => {
    const message = read.get(seq);
    if (!message) throw new Error(`message ${seq} vanished inside its own transaction`);
    return { change, type: 'update', message };
  });
}

function changed(db: Db, room: RoomRow, seq: number, withReplies: boolean): ChangeResult {
  const replies = withReplies
    ? statements(db)
        .replies.all({ roomId: room.id, seq })
        .map((row) => row.seq)
    : [];
  const changes = recordChanges(db, room, [seq, ...replies]);
  const own = changes[0];
  if (!own) throw new Error('a change recorded nothing');
  return { kind: 'changed', message: own.message, changes };
}

function unchanged(db: Db, room: RoomRow, seq: number): ChangeResult {
  const message = getMessage(db, room, seq);
  return message ? { kind: 'unchanged', message } : { kind: 'notFound' };
}

function find(db: Db, room: RoomRow, seq: number): Stored | undefined {
  return statements(db).stored.get({ roomId: room.id, seq });
}

export function editMessage(
  db: Db,
  room: RoomRow,
  seq: number,
  text: string,
  now: Date,
  mentions: readonly string[] = [],
): ChangeResult {
  return write(db, () => {
    const stored = find(db, room, seq);
    if (!stored) return { kind: 'notFound' };
    if (stored.deletedAt !== null) return { kind: 'deleted' };
    if (stored.text === text) return unchanged(db, room, seq);
    db.update(messages).set({ text, editedAt: now }).where(eq(messages.id, stored.id)).run();
    // Mentions follow the text: the new version's, in the same transaction.
    writeMentions(db, room.id, stored.id, mentions);
    return changed(db, room, seq, true);
  });
}

/** The text is overwritten (not hidden), the reactions go, and the author's counters drop by one. */
export function deleteMessage(db: Db, room: RoomRow, seq: number, now: Date): ChangeResult {
  return write(db, () => {
    const stored = find(db, room, seq);
    if (!stored) return { kind: 'notFound' };
    if (stored.deletedAt !== null) return unchanged(db, room, seq);
    db.update(messages).set({ text: '', deletedAt: now }).where(eq(messages.id, stored.id)).run();
    db.delete(reactions).where(eq(reactions.messageId, stored.id)).run();
    db.delete(messageMentions).where(eq(messageMentions.messageId, stored.id)).run();
    db.update(rooms)
      .set({ messageCount: sql`${rooms.messageCount} - 1` })
      .where(eq(rooms.id, room.id))
      .run();
    db.update(users)
      .set({ messageCount: sql`${users.messageCount} - 1` })
      .where(eq(users.id, stored.authorId))
      .run();
    db.update(memberships)
      .set({ messageCount: sql`${memberships.messageCount} - 1` })
      .where(and(eq(memberships.roomId, room.id), eq(memberships.userId, stored.authorId)))
      .run();
    return changed(db, room, seq, true);
  });
}

export function reactToMessage(db: Db, room: RoomRow, seq: number, userId: number, emoji: string): ChangeResult {
  return write(db, () => {
    const stored = find(db, room, seq);
    if (!stored) return { kind: 'notFound' };
    if (stored.deletedAt !== null) return { kind: 'deleted' };
    const mine = db
      .select({ id: reactions.id })
      .from(reactions)
      .where(and(eq(reactions.messageId, stored.id), eq(reactions.userId, userId), eq(reactions.emoji, emoji)))
      .get();
    if (mine) return unchanged(db, room, seq);
    const known = db
      .select({ id: reactions.id })
      .from(reactions)
      .where(and(eq(reactions.messageId, stored.id), eq(reactions.emoji, emoji)))
      .limit(1)
      .get();
    if (!known) {
      const distinct = db
        .select({ emoji: count(sql`distinct ${reactions.emoji}`) })
        .from(reactions)
        .where(eq(reactions.messageId, stored.id))
        .get();
      if ((distinct?.emoji ?? 0) >= MAX_REACTIONS_PER_MESSAGE) return { kind: 'tooManyReactions' };
    }
    db.insert(reactions).values({ messageId: stored.id, userId, emoji }).run();
    return changed(db, room, seq, false);
  });
}

export function unreactToMessage(db: Db, room: RoomRow, seq: number, userId: number, emoji: string): ChangeResult {
  return write(db, () => {
    const stored = find(db, room, seq);
    if (!stored) return { kind: 'notFound' };
    if (stored.deletedAt !== null) return { kind: 'deleted' };
    const removed = db
      .delete(reactions)
      .where(and(eq(reactions.messageId, stored.id), eq(reactions.userId, userId), eq(reactions.emoji, emoji)))
      .returning({ id: reactions.id })
      .all();
    if (removed.length === 0) return unchanged(db, room, seq);
    return changed(db, room, seq, false);
  });
}

const feedStatements = perDatabase((db) => ({
  posts: db
    .select({ change: messages.createdChange, seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), gt(messages.createdChange, sql.placeholder('after'))))
    .orderBy(asc(messages.createdChange))
    .limit(sql.placeholder('limit'))
    .prepare(),
  logged: db
    .select({ change: messageChanges.change, seq: messageChanges.seq })
    .from(messageChanges)
    .where(
      and(eq(messageChanges.roomId, sql.placeholder('roomId')), gt(messageChanges.change, sql.placeholder('after'))),
    )
    .orderBy(asc(messageChanges.change))
    .limit(sql.placeholder('limit'))
    .prepare(),
  changeOfSeq: db
    .select({ change: messages.createdChange })
    .from(messages)
    .where(and(eq(messages.roomId, sql.placeholder('roomId')), eq(messages.seq, sql.placeholder('seq'))))
    .prepare(),
}));

/**
 * The room's changes after `after`, ascending: the posts (by created_change) merged with the log's
 * edits, deletes and reaction changes, each with the message as it is now. Read in one transaction,
 * so the page is one consistent snapshot.
 */
export function listChanges(db: Db, room: RoomRow, after: number, limit: number): ChangePage {
  return db.transaction(() => {
    const s = feedStatements(db);
    const posts = s.posts.all({ roomId: room.id, after, limit: limit + 1 });
    const logged = s.logged.all({ roomId: room.id, after, limit: limit + 1 });
    const merged = [
      ...posts.map((row) => ({ ...row, type: 'message' as const })),
      ...logged.map((row) => ({ ...row, type: 'update' as const })),
    ].sort((a, b) => a.change - b.change);
    const page = merged.slice(0, limit);
    const read = getMessages(
      db,
      room,
      page.map((entry) => entry.seq),
    );
    const changes: RoomChange[] = [];
    for (const entry of page) {
      const message = read.get(entry.seq);
      if (message) changes.push({ change: entry.change, type: entry.type, message });
    }
    return { changes, hasMore: merged.length > limit };
  });
}

export function changeOfSeq(db: Db, room: RoomRow, seq: number): number | undefined {
  if (seq === 0) return 0;
  return feedStatements(db).changeOfSeq.get({ roomId: room.id, seq })?.change;
}
