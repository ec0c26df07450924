import { and, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { searchSnippet, searchWords } from '../../../shared/search-text.ts';
import * as schema from '../../db/schema-pg.ts';
import { groupMentions, groupReactions, toMessageDto } from '../dto.ts';
import type { SearchPage, SearchRequest, SearchResult } from '../store.ts';
import { guarded } from './errors.ts';
import { type Queryable, selectMessages, selectReactions } from './messages.ts';

const { memberships, messageMentions, messages, rooms, users } = schema;

/**
 * A tsquery from the user's words, never from their raw input: each word a quoted lexeme (words
 * hold only letters and digits, so nothing in them is tsquery syntax), AND-ed, exactly as ftsQuery
 * builds the FTS5 query on SQLite. to_tsquery then normalises each lexeme with the column's
 * configuration (unaccent, lower case: drizzle/postgres/0004).
 */
export function tsQuery(words: readonly string[]): string {
  return words.map((word) => `'${word}'`).join(' & ');
}

/** The generated column of drizzle/postgres/0004 (not in schema-pg.ts: db:copy must not write it). */
const matches = (query: string) => sql`"messages"."search" @@ to_tsquery('atlas_search', ${query})`;

/** How many of the newest messages in scope the first pass reads (see pgSearch). */
export const RECENT_WINDOW = 500;

type Found = { id: number; room: string };
/** int8 and count(*) come back from a raw query as strings. */
type RecentRow = { scanned: string; floor: string | null; id: string | null; room: string };

/**
 * Full-text search on PostgreSQL (tsvector + GIN), in two passes, because no single plan is good:
 * PostgreSQL cannot tell how common a word is well enough, and with ORDER BY id DESC LIMIT it
 * walks the primary key backwards testing every message: instant for a common word, 100 ms on
 * 100,000 messages for one that is rare or absent. The GIN index is the opposite: it reads every
 * match before sorting them.
 * 1. The newest RECENT_WINDOW messages in scope (before the cursor) are read and tested: a common
 *    word fills the page here.
 * 2. Only when the page is not full and older messages exist: the GIN index, below that window,
 *    with the ORDER BY on an expression so the planner cannot pick the backward walk again.
 */
export function pgSearch(db: Queryable, request: SearchRequest): Promise<SearchPage> {
  return guarded(async () => {
    const words = searchWords(request.query);
    if (words.length === 0) return { results: [], hasMore: false };
    const query = tsQuery(words);
    const wanted = request.limit + 1;
    const inScope: SQL =
      request.roomId === undefined
        ? inArray(
            messages.roomId,
            db.select({ roomId: memberships.roomId }).from(memberships).where(eq(memberships.userId, request.userId)),
          )
        : eq(messages.roomId, request.roomId);
    const before = request.beforeId === undefined ? sql`true` : lt(messages.id, request.beforeId);
    // One row always: the window's size and lowest id, and a hit (or nulls when there is none).
    const { rows: recent } = await db.execute<RecentRow>(sql`
      with recent as materialized (
        select ${messages.id} as id, ${messages.roomId} as room_id, ${messages.deletedAt} as deleted_at,
          "messages"."search" as search
        from ${messages} where ${inScope} and ${before} order by ${messages.id} desc limit ${RECENT_WINDOW})
      select stats.scanned, stats.floor, hit.id, hit.room
      from (select count(*) as scanned, min(id) as floor from recent) as stats
      left join lateral (
        select r.id, ${rooms.name} as room from recent r join ${rooms} on ${rooms.id} = r.room_id
        where r.search @@ to_tsquery('atlas_search', ${query}) and r.deleted_at is null
        order by r.id desc limit ${wanted}) as hit on true
      order by hit.id desc`);
    const found: Found[] = recent.flatMap((row) => (row.id === null ? [] : [{ id: Number(row.id), room: row.room }]));
    const scanned = Number(recent[0]?.scanned ?? 0);
    const floor = Number(recent[0]?.floor ?? 0);
    if (found.length < wanted && scanned === RECENT_WINDOW) {
      const older = await db
        .select({ id: messages.id, room: rooms.name })
        .from(messages)
        .innerJoin(rooms, eq(rooms.id, messages.roomId))
        .where(and(matches(query), lt(messages.id, floor), isNull(messages.deletedAt), inScope))
        .orderBy(sql`${messages.id} + 0 desc`)
        .limit(wanted - found.length);
      found.push(...older);
    }
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
