import { and, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { searchSnippet, searchWords } from '../../../shared/search-text.ts';
import * as schema from '../../db/schema-pg.ts';
import { groupMentions, groupReactions, toMessageDto } from '../dto.ts';
import type { SearchPage, SearchRequest, SearchResult } from '../store.ts';
import { guarded } from './errors.ts';
import { type Queryable, selectMessages, selectReactions } from './messages.ts';

const { memberships, messageMentions, messages, rooms, users } = schema;

/**
 * A tsquery from the user's words, never from their raw input: each word a quoted lexeme (words
 * hold only letters and digits, so nothing in them is tsquery syntax), AND-ed, the last one also a
 * prefix (:*), exactly as ftsQuery builds the FTS5 query on SQLite. to_tsquery then normalises each
 * lexeme with the column's configuration (unaccent, lower case: drizzle/postgres/0004).
 */
export function tsQuery(words: readonly string[]): string {
  return words.map((word, index) => `'${word}'${index === words.length - 1 ? ':*' : ''}`).join(' & ');
}

/** The generated column of drizzle/postgres/0004 (not in schema-pg.ts: db:copy must not write it). */
const matches = (query: string) => sql`"messages"."search" @@ to_tsquery('atlas_search', ${query})`;

/**
 * Full-text search on PostgreSQL (tsvector + GIN). Not a prepared statement on purpose: a generic
 * plan cannot estimate how common the words are, and a rare word wants the GIN index while a very
 * common one may rather walk the primary key backwards; each call gets its own plan.
 */
export function pgSearch(db: Queryable, request: SearchRequest): Promise<SearchPage> {
  return guarded(async () => {
    const words = searchWords(request.query);
    if (words.length === 0) return { results: [], hasMore: false };
    const inRooms: SQL =
      request.roomId === undefined
        ? inArray(
            messages.roomId,
            db.select({ roomId: memberships.roomId }).from(memberships).where(eq(memberships.userId, request.userId)),
          )
        : eq(messages.roomId, request.roomId);
    const found = await db
      .select({ id: messages.id, room: rooms.name })
      .from(messages)
      .innerJoin(rooms, eq(rooms.id, messages.roomId))
      .where(
        and(
          matches(tsQuery(words)),
          request.beforeId === undefined ? undefined : lt(messages.id, request.beforeId),
          isNull(messages.deletedAt),
          inRooms,
        ),
      )
      .orderBy(desc(messages.id))
      .limit(request.limit + 1);
    const page = found.slice(0, request.limit);
    if (page.length === 0) return { results: [], hasMore: false };
    const ids = page.map((row) => row.id);
    const [rows, reactionRows, mentionRows] = await Promise.all([
      selectMessages(db).where(inArray(messages.id, ids)),
      selectReactions(db, sql`${sql.param(ids)}`),
      db
        .select({ messageId: messageMentions.messageId, username: users.username })
        .from(messageMentions)
        .innerJoin(users, eq(users.id, messageMentions.userId))
        .where(inArray(messageMentions.messageId, ids)),
    ]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const reactions = groupReactions(reactionRows);
    const mentions = groupMentions(mentionRows);
    const results = page.flatMap(({ id, room }): SearchResult[] => {
      const row = byId.get(id);
      // Read after the match, on another pooled connection: a delete committed in between hides it.
      if (!row || row.deletedAt !== null) return [];
      const message = toMessageDto(room, row, reactions.get(id), mentions.get(id));
      return [{ message, snippet: searchSnippet(row.text, words) }];
    });
    return { results, hasMore: found.length > request.limit };
  });
}
