/**
 * The ceiling for the send and history scenarios: the server's HTTP stack with nothing behind it.
 * Fastify is built with the same options as server/app.ts, with the same security hooks (helmet
 * headers, CSRF guard), cookie parsing, JSON body parser and tRPC adapter, and the same tRPC
 * instance (router, procedures, error formatter). Only the work is missing: no session lookup, no
 * validation. Started by the bench like the real server: PORT, HOST, RATE_LIMITS, LOG_LEVEL.
 * With BENCH_HISTORY_DB set (a seeded SQLite file), `page` is the history baseline: the same two
 * prepared queries messages.list needs (the page with its replied-to messages, then the page's
 * reactions) for the same rows, shaped the same, JSON-encoded by tRPC. With
 * BENCH_HISTORY_DATABASE_URL instead (a PostgreSQL copy of the seed), the same three queries run on
 * PostgreSQL as `pg` named prepared statements over a pool of the server's size: the baseline of
 * the same kind on that backend.
 */

import cookie from '@fastify/cookie';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { fastifyOptions } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import { type Context, noHttp } from '../server/context.ts';
import { registerJsonBody } from '../server/http/json-body.ts';
import { registerSecurity } from '../server/http/security.ts';
import { disabledMetrics } from '../server/metrics/metrics.ts';
import { publicProcedure, router } from '../server/trpc.ts';
import { orderMentions } from '../shared/mentions.ts';
import { replyExcerpt } from '../shared/rules.ts';

interface PageRow {
  id: number;
  seq: number;
  author: string;
  text: string;
  createdAt: number;
  clientId: string | null;
  editedAt: number | null;
  deletedAt: number | null;
  replySeq: number | null;
  replyAuthor: string | null;
  replyText: string | null;
  replyDeletedAt: number | null;
}

interface ReactionRow {
  messageId: number;
  emoji: string;
  username: string;
}

interface Reaction {
  emoji: string;
  count: number;
  usernames: string[];
}

/*
 * What a fair minimal messages.list does since decision 019, as prepared statements:
 * - the newest `limit` messages of a room by name (one more to tell hasMore) with their authors,
 *   left-joined to the message each replies to (same room, that seq) and its author, as
 *   server/store/messages.ts reads them;
 * - the reactions of the page's messages with their users, in first-use order (reactions.id),
 *   one query for the whole page (the ids passed as one JSON array), grouped here per message;
 * - their mentions (issue 13), one more query for the page, as the store does.
 * Same rows, same SQL joins and the same number of queries as the store; what the baseline skips
 * is everything around them (session, room and membership checks, zod, drizzle's query building).
 */
interface PageQueries {
  newest(room: string, limit: number): Promise<PageRow[]>;
  reactions(idsJson: string): Promise<ReactionRow[]>;
  mentions(idsJson: string): Promise<{ messageId: number; username: string }[]>;
}

function sqliteQueries(path: string): PageQueries {
  const db = new Database(path);
  const newest = db.prepare<[string, number], PageRow>(
    `select m.id, m.seq, u.username as author, m.text, m.created_at as createdAt, m.client_id as clientId,
       m.edited_at as editedAt, m.deleted_at as deletedAt,
       o.seq as replySeq, ou.username as replyAuthor, o.text as replyText, o.deleted_at as replyDeletedAt
     from messages m
     join users u on u.id = m.author_id
     left join messages o on o.room_id = m.room_id and o.seq = m.reply_to
     left join users ou on ou.id = o.author_id
     where m.room_id = (select id from rooms where name = ?)
     order by m.seq desc limit ?`,
  );
  const reactions = db.prepare<[string], ReactionRow>(
    `select r.message_id as messageId, r.emoji, u.username
     from reactions r join users u on u.id = r.user_id
     where r.message_id in (select value from json_each(?))
     order by r.id`,
  );
  const mentions = db.prepare<[string], { messageId: number; username: string }>(
    `select mm.message_id as messageId, u.username
     from message_mentions mm join users u on u.id = mm.user_id
     where mm.message_id in (select value from json_each(?))`,
  );
  return {
    newest: async (room, limit) => newest.all(room, limit),
    reactions: async (ids) => reactions.all(ids),
    mentions: async (ids) => mentions.all(ids),
  };
}

/** The same queries in PostgreSQL's dialect (timestamps come back as epoch ms, like SQLite's). */
function postgresQueries(url: string, poolSize: number): PageQueries {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;
  const run = async <Row>(name: string, text: string, values: unknown[]): Promise<Row[]> =>
    (await pool.query<Row & pg.QueryResultRow>({ name, text, values })).rows;
  return {
    newest: (room, limit) =>
      run<PageRow>(
        'bench_newest_page',
        `select m.id::float8 as "id", m.seq::float8 as "seq", u.username as "author", m.text,
           ${ms('m.created_at')} as "createdAt", m.client_id as "clientId",
           ${ms('m.edited_at')} as "editedAt", ${ms('m.deleted_at')} as "deletedAt",
           o.seq::float8 as "replySeq", ou.username as "replyAuthor", o.text as "replyText",
           ${ms('o.deleted_at')} as "replyDeletedAt"
         from messages m
         join users u on u.id = m.author_id
         left join messages o on o.room_id = m.room_id and o.seq = m.reply_to
         left join users ou on ou.id = o.author_id
         where m.room_id = (select id from rooms where name = $1)
         order by m.seq desc limit $2`,
        [room, limit],
      ),
    reactions: (ids) =>
      run<ReactionRow>(
        'bench_page_reactions',
        `select r.message_id::float8 as "messageId", r.emoji, u.username
         from reactions r join users u on u.id = r.user_id
         where r.message_id = any(select jsonb_array_elements_text($1::jsonb)::bigint)
         order by r.id`,
        [ids],
      ),
    mentions: (ids) =>
      run<{ messageId: number; username: string }>(
        'bench_page_mentions',
        `select mm.message_id::float8 as "messageId", u.username
         from message_mentions mm join users u on u.id = mm.user_id
         where mm.message_id = any(select jsonb_array_elements_text($1::jsonb)::bigint)`,
        [ids],
      ),
  };
}

const queries: PageQueries | null = process.env.BENCH_HISTORY_DATABASE_URL
  ? postgresQueries(process.env.BENCH_HISTORY_DATABASE_URL, parseConfig(process.env).DATABASE_POOL_SIZE)
  : process.env.BENCH_HISTORY_DB
    ? sqliteQueries(process.env.BENCH_HISTORY_DB)
    : null;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Reaction rows in first-use order → per message, emoji in first-use order with their users. */
function groupByMessage(rows: readonly ReactionRow[]): Map<number, Reaction[]> {
  const byMessage = new Map<number, Reaction[]>();
  for (const row of rows) {
    let list = byMessage.get(row.messageId);
    if (!list) {
      list = [];
      byMessage.set(row.messageId, list);
    }
    let reaction = list.find((candidate) => candidate.emoji === row.emoji);
    if (!reaction) {
      reaction = { emoji: row.emoji, count: 0, usernames: [] };
      list.push(reaction);
    }
    reaction.count += 1;
    reaction.usernames.push(row.username);
  }
  return byMessage;
}

/** The page messages.list returns, from the prepared queries above. */
async function readPage(room: string, limit: number) {
  if (!queries) throw new Error('start with BENCH_HISTORY_DB or BENCH_HISTORY_DATABASE_URL for the history baseline');
  const rows = await queries.newest(room, limit + 1);
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit).reverse();
  const ids = JSON.stringify(page.map((row) => row.id));
  const [reactionRows, mentionRows] = await Promise.all([queries.reactions(ids), queries.mentions(ids)]);
  const reactions = groupByMessage(reactionRows);
  const mentions = new Map<number, string[]>();
  for (const row of mentionRows) mentions.set(row.messageId, [...(mentions.get(row.messageId) ?? []), row.username]);
  return {
    // Keys in messageSchema's order, so the JSON is byte for byte messages.list's.
    messages: page.map((row) => ({
      id: row.id,
      room,
      seq: row.seq,
      author: row.author,
      text: row.text,
      createdAt: new Date(row.createdAt).toISOString(),
      clientId: row.clientId,
      editedAt: iso(row.editedAt),
      deletedAt: iso(row.deletedAt),
      reactions: reactions.get(row.id) ?? [],
      replyTo:
        row.replySeq === null || row.replyAuthor === null
          ? null
          : {
              seq: row.replySeq,
              author: row.replyAuthor,
              text: row.replyDeletedAt === null ? replyExcerpt(row.replyText ?? '') : '',
              deleted: row.replyDeletedAt !== null,
            },
      mentions: orderMentions(row.text, mentions.get(row.id) ?? []),
    })),
    hasMore,
  };
}

const baselineRouter = router({
  /** Stands in for messages.post: answers at once, writes nothing. */
  noop: publicProcedure.mutation(() => ({ ok: true as const })),
  /** Stands in for messages.list: answers at once, reads nothing. */
  ping: publicProcedure.query(() => ({ ok: true as const })),
  /** Stands in for messages.list: the same page, no session, room or membership check, no zod. */
  page: publicProcedure
    .input((raw) => raw as { room: string; limit: number })
    .query(({ input }) => readPage(input.room, input.limit)),
});

type BaselineRouter = typeof baselineRouter;

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const server = Fastify(fastifyOptions(config));
  registerJsonBody(server);
  await server.register(cookie);
  await registerSecurity(server, config);
  // The procedures never read the context; a shell of the real one keeps server/trpc.ts's types.
  // The call-counting middleware of publicProcedure runs, with metrics off.
  const context = {
    user: null,
    sessionId: null,
    http: noHttp,
    connection: null,
    metrics: disabledMetrics,
    transport: 'trpc-http',
  } as unknown as Context;
  await server.register(fastifyTRPCPlugin<BaselineRouter>, {
    prefix: '/api/trpc',
    trpcOptions: { router: baselineRouter, createContext: () => context },
  });
  server.get('/healthz', async () => ({ status: 'ok' }));
  // The same two answers from plain Fastify routes, without tRPC: how much of a baseline's cost
  // is tRPC's HTTP adapter (reported beside the baselines, not used as one).
  server.post('/plain/noop', async () => ({ ok: true }));
  server.get<{ Params: { room: string }; Querystring: { limit: string } }>(
    '/plain/rooms/:room/messages',
    async (request) => readPage(request.params.room, Number(request.query.limit)),
  );
  await server.listen({ port: config.PORT, host: config.HOST });

  const shutdown = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
