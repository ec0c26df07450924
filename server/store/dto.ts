import { orderMentions } from '../../shared/mentions.ts';
import { replyExcerpt } from '../../shared/rules.ts';
import type { MessageDto, ReplyPreview, RoomSummary } from '../schemas.ts';

/** A message as both backends read it, before the room name and reactions are added. */
export type MessageRow = {
  id: number;
  seq: number;
  author: string;
  text: string;
  createdAt: Date;
  clientId: string | null;
  editedAt: Date | null;
  deletedAt: Date | null;
  /** The message replied to (a left join on the same room's seq): all null when there is none. */
  replySeq: number | null;
  replyAuthor: string | null;
  replyText: string | null;
  replyDeletedAt: Date | null;
};

/** One reaction row, in first-use order (reactions.id). */
export type ReactionRow = { messageId: number; emoji: string; username: string };

export type ReactionDto = MessageDto['reactions'][number];

/**
 * Groups reaction rows (ordered by reactions.id, i.e. by first use) per message: emoji in order of
 * their first use, usernames in the order they reacted.
 */
export function groupReactions(rows: readonly ReactionRow[]): Map<number, ReactionDto[]> {
  const byMessage = new Map<number, Map<string, ReactionDto>>();
  for (const row of rows) {
    let emoji = byMessage.get(row.messageId);
    if (!emoji) {
      emoji = new Map();
      byMessage.set(row.messageId, emoji);
    }
    let reaction = emoji.get(row.emoji);
    if (!reaction) {
      reaction = { emoji: row.emoji, count: 0, usernames: [] };
      emoji.set(row.emoji, reaction);
    }
    reaction.count += 1;
    reaction.usernames.push(row.username);
  }
  return new Map([...byMessage].map(([id, emoji]) => [id, [...emoji.values()]]));
}

/**
 * Keys in messageSchema's order (the order a freshly posted message has), on both backends, so the
 * history and live frames of a message are byte for byte identical whichever database holds it.
 */
export function toMessageDto(
  room: string,
  row: MessageRow,
  reactions: ReactionDto[] = [],
  mentions: readonly string[] = [],
): MessageDto {
  const { id, seq, author, text, createdAt, clientId } = row;
  return {
    id,
    room,
    seq,
    author,
    text,
    createdAt: createdAt.toISOString(),
    clientId,
    editedAt: row.editedAt?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
    reactions,
    replyTo:
      row.replySeq === null || row.replyAuthor === null
        ? null
        : {
            seq: row.replySeq,
            author: row.replyAuthor,
            text: row.replyDeletedAt === null ? replyExcerpt(row.replyText ?? '') : '',
            deleted: row.replyDeletedAt !== null,
          },
    mentions: mentions.length > 1 ? orderMentions(text, mentions) : [...mentions],
  };
}

/** One mention row: a message and the username it mentions. */
export type MentionRow = { messageId: number; username: string };

export function groupMentions(rows: readonly MentionRow[]): Map<number, string[]> {
  const byMessage = new Map<number, string[]>();
  for (const row of rows) {
    const names = byMessage.get(row.messageId);
    if (names) names.push(row.username);
    else byMessage.set(row.messageId, [row.username]);
  }
  return byMessage;
}

/**
 * The quote a reply carries, from its original as stored. Read at or after the reply's commit, never
 * before: an edit or delete of the original that commits before the reply is then in the quote, and
 * one that commits after it finds the reply and updates it (decision 019).
 */
export function replyPreviewOf(original: MessageDto): ReplyPreview {
  const deleted = original.deletedAt !== null;
  return { seq: original.seq, author: original.author, text: deleted ? '' : replyExcerpt(original.text), deleted };
}

/** A room's summary as both backends read it (memberCount from a subquery). */
export type RoomSummaryRow = {
  name: string;
  lastSeq: number;
  messageCount: number;
  lastMessageAt: Date | null;
  createdAt: Date;
  memberCount: number;
};

export function toRoomSummary(row: RoomSummaryRow): RoomSummary {
  return {
    name: row.name,
    memberCount: row.memberCount,
    messageCount: row.messageCount,
    lastSeq: row.lastSeq,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
