import { eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import { searchSnippet, searchWords } from '../../../shared/search-text.ts';
import * as schema from '../../db/schema-pg.ts';
import { groupMentions, groupReactions, toMessageDto } from '../dto.ts';
import type { SearchPage, SearchRequest, SearchResult } from '../store.ts';
import { guarded } from './errors.ts';
import { type Queryable, selectMessages, selectReactions } from './messages.ts';

const { messageMentions, messages, users } = schema;

/**
 * A tsquery from the user's words, never from their raw input: each word a quoted lexeme (words
 * hold only letters and digits, so nothing in them is tsquery syntax), AND-ed, exactly as ftsQuery
 * builds the FTS5 query on SQLite. to_tsquery then normalises each lexeme with the column's
 * configuration (unaccent, lower case: drizzle/postgres/0004).
 */
export function tsQuery(words: readonly string[]): string {
  return words.map((word) => `'${word}'`).join(' & ');
}

/** How many of the newest messages in scope the first pass reads (see pgSearcher). */
export const RECENT_WINDOW = 500;

/**
 * The first pass: the newest RECENT_WINDOW messages in scope below the cursor, and among them the
 * newest $4 matches. One row always: the window's size and lowest id, with a match or nulls. Named,
 * so each pooled connection plans it once (the materialised window fixes the plan anyway). In one
 * room, by seq: the room's own index, in the same order as ids.
 */
const recentPass = (name: string, scope: string, order: string): pg.QueryConfig => ({
  name,
  text: `with recent as materialized (
      select m.id, m.room_id, m.deleted_at, m.search from messages m
      where ${scope} and m.id < $2 order by ${order} desc limit ${RECENT_WINDOW})
    select stats.scanned, stats.floor, hit.id, hit.room
    from (select count(*) as scanned, min(id) as floor from recent) as stats
    left join lateral (
      select r.id, rooms.name as room from recent r join rooms on rooms.id = r.room_id
      where r.search @@ to_tsquery('atlas_search', $3) and r.deleted_at is null
      order by r.id desc limit $4) as hit on true
    order by hit.id desc`,
});
const RECENT_IN_MY_ROOMS = recentPass(
  'atlas_search_recent_mine',
  'm.room_id in (select room_id from memberships where user_id = $1)',
  'm.id',
);
const RECENT_IN_ROOM = recentPass('atlas_search_recent_room', 'm.room_id = $1', 'm.seq');

/**
 * The second pass: matches below the window's lowest id ($2), by the GIN index. The ORDER BY is on
 * an expression so that the planner cannot walk the primary key backwards instead, and the text is
 * not a named statement so that each call is planned for its own words.
 */
const olderPass = (scope: string) => `select m.id, rooms.name as room from messages m join rooms on rooms.id = m.room_id
  where ${scope} and m.id < $2 and m.search @@ to_tsquery('atlas_search', $3) and m.deleted_at is null
  order by m.id + 0 desc limit $4`;
const OLDER_IN_MY_ROOMS = olderPass('m.room_id in (select room_id from memberships where user_id = $1)');
const OLDER_IN_ROOM = olderPass('m.room_id = $1');

/** int8 and count(*) come back from a raw query as strings. */
type RecentRow = { scanned: string; floor: string | null; id: string | null; room: string | null };
type Found = { id: number; room: string };

const NO_CURSOR = Number.MAX_SAFE_INTEGER;

/**
 * Full-text search on PostgreSQL (tsvector + GIN), in two passes, because no single plan is good:
 * PostgreSQL cannot tell how common a word is well enough, and with ORDER BY id DESC LIMIT it
 * walks the primary key backwards testing every message: instant for a common word, 100 ms on
 * 100,000 messages for one that is rare or absent. The GIN index is the opposite: it reads every
 * match before sorting them.
 * 1. The newest RECENT_WINDOW messages in scope (before the cursor) are read and tested: a common
 *    word fills the page here.
 * 2. Only when the page is not full and older messages exist: the GIN index, below that window.
 * Both read the generated column `search` of drizzle/postgres/0004 (not in schema-pg.ts: db:copy
 * must not write it), so they are plain SQL.
 * Then the page's messages, reactions and mentions, by prepared statements (building the queries
 * cost more than running them).
 */
export function pgSearcher(db: Queryable, pool: pg.Pool): (request: SearchRequest) => Promise<SearchPage> {
  const ids = sql`any(${sql.placeholder('ids')}::bigint[])`;
  const rowsOf = selectMessages(db).where(sql`${messages.id} = ${ids}`).prepare('atlas_search_rows');
  const reactionsOf = selectReactions(db, sql`${sql.placeholder('ids')}`).prepare('atlas_search_reactions');
  const mentionsOf = db
    .select({ messageId: messageMentions.messageId, username: users.username })
    .from(messageMentions)
    .innerJoin(users, eq(users.id, messageMentions.userId))
    .where(sql`${messageMentions.messageId} = ${ids}`)
    .prepare('atlas_search_mentions');

  return (request) =>
    guarded(async () => {
      const words = searchWords(request.query);
      if (words.length === 0) return { results: [], hasMore: false };
      const query = tsQuery(words);
      const wanted = request.limit + 1;
      const { rows: recent } = await pool.query<RecentRow>(
        request.roomId === undefined ? RECENT_IN_MY_ROOMS : RECENT_IN_ROOM,
        [request.roomId ?? request.userId, request.beforeId ?? NO_CURSOR, query, wanted],
      );
      const found: Found[] = recent.flatMap((row) =>
        row.id === null || row.room === null ? [] : [{ id: Number(row.id), room: row.room }],
      );
      if (found.length < wanted && Number(recent[0]?.scanned ?? 0) === RECENT_WINDOW) {
        const { rows: older } = await pool.query<{ id: string; room: string }>(
          request.roomId === undefined ? OLDER_IN_MY_ROOMS : OLDER_IN_ROOM,
          [request.roomId ?? request.userId, Number(recent[0]?.floor), query, wanted - found.length],
        );
        found.push(...older.map((row) => ({ id: Number(row.id), room: row.room })));
      }
      const page = found.slice(0, request.limit);
      if (page.length === 0) return { results: [], hasMore: false };
      const params = { ids: page.map((row) => row.id) };
      const [rows, reactionRows, mentionRows] = await Promise.all([
        rowsOf.execute(params),
        reactionsOf.execute(params),
        mentionsOf.execute(params),
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
