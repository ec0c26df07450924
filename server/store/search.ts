import { and, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { searchSnippet, searchWords } from '../../shared/search-text.ts';
import type { Db } from '../db/client.ts';
import { memberships, messages, rooms } from '../db/schema.ts';
import { toMessageDto } from './dto.ts';
import { mentionsOf, reactionsOf, selectMessages } from './messages.ts';
import { perDatabase } from './prepared.ts';
import type { SearchPage, SearchRequest, SearchResult } from './store.ts';

/**
 * The FTS5 table of drizzle/sqlite/0002 as the query builder sees it: its rowid is messages.id, and
 * its hidden column named like the table is what MATCH takes. Not in schema.ts, so drizzle-kit
 * never tries to create or alter a virtual table.
 */
const messagesFts = sqliteTable('messages_fts', {
  rowid: integer('rowid').notNull(),
  match: text('messages_fts'),
});

/**
 * An FTS5 query from the user's words, never from their raw input: each word is a double-quoted
 * string (words hold only letters and digits, so no quote can end it early, and NEAR, OR, `-`, `*`
 * or `:` inside mean nothing), implicitly AND-ed. No prefix queries (shared/search-text.ts).
 */
export function ftsQuery(words: readonly string[]): string {
  return words.map((word) => `"${word}"`).join(' ');
}

const NO_CURSOR = Number.MAX_SAFE_INTEGER;

/**
 * Newest first, in the FTS index's own rowid order (rowid = messages.id): SQLite walks the matches
 * backwards from the cursor and stops at the limit, with no sort of every match.
 */
const statements = perDatabase((db) => {
  const page = (inRooms: SQL) =>
    db
      .select({ id: messagesFts.rowid, room: rooms.name })
      .from(messagesFts)
      .innerJoin(messages, eq(messages.id, messagesFts.rowid))
      .innerJoin(rooms, eq(rooms.id, messages.roomId))
      .where(
        and(
          sql`${messagesFts.match} match ${sql.placeholder('match')}`,
          lt(messagesFts.rowid, sql.placeholder('before')),
          // A deleted message's text is '' and so is not in the index anyway.
          isNull(messages.deletedAt),
          inRooms,
        ),
      )
      .orderBy(desc(messagesFts.rowid))
      .limit(sql.placeholder('limit'))
      .prepare();
  // The page's messages: prepared once, the ids bound as one JSON array (building a Drizzle query
  // costs more than running it on a page of 20); reactions and mentions as every page reads them.
  const ids = sql`(select value from json_each(${sql.placeholder('ids')}))`;
  return {
    inRoom: page(eq(messages.roomId, sql.placeholder('roomId'))),
    inMyRooms: page(
      inArray(
        messages.roomId,
        db
          .select({ roomId: memberships.roomId })
          .from(memberships)
          .where(eq(memberships.userId, sql.placeholder('userId'))),
      ),
    ),
    rows: selectMessages(db).where(sql`${messages.id} in ${ids}`).prepare(),
  };
});

/** Full-text search on SQLite (FTS5, kept in sync by the triggers of drizzle/sqlite/0002). */
export function searchMessages(db: Db, request: SearchRequest): SearchPage {
  const words = searchWords(request.query);
  if (words.length === 0) return { results: [], hasMore: false };
  const params = { match: ftsQuery(words), before: request.beforeId ?? NO_CURSOR, limit: request.limit + 1 };
  const prepared = statements(db);
  const found =
    request.roomId === undefined
      ? prepared.inMyRooms.all({ ...params, userId: request.userId })
      : prepared.inRoom.all({ ...params, roomId: request.roomId });
  const page = found.slice(0, request.limit);
  if (page.length === 0) return { results: [], hasMore: false };
  const pageIds = page.map((row) => row.id);
  const rows = new Map(prepared.rows.all({ ids: JSON.stringify(pageIds) }).map((row) => [row.id, row]));
  const reactions = reactionsOf(db, pageIds);
  const mentions = mentionsOf(db, pageIds);
  const results = page.flatMap(({ id, room }): SearchResult[] => {
    const row = rows.get(id);
    if (!row) return [];
    const message = toMessageDto(room, row, reactions.get(id), mentions.get(id));
    return [{ message, snippet: searchSnippet(row.text, words) }];
  });
  return { results, hasMore: found.length > request.limit };
}
