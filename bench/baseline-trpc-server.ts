/**
 * The ceiling for the send and history scenarios: the server's HTTP stack with nothing behind it.
 * Fastify is built with the same options as server/app.ts, with the same security hooks (helmet
 * headers, CSRF guard), cookie parsing, JSON body parser and tRPC adapter, and the same tRPC
 * instance (router, procedures, error formatter). Only the work is missing: no session lookup, no
 * validation. Started by the bench like the real server: PORT, HOST, RATE_LIMITS, LOG_LEVEL.
 * With BENCH_HISTORY_DB set (a seeded SQLite file), `page` is the history baseline: one prepared
 * query for the same rows messages.list returns, shaped the same, JSON-encoded by tRPC.
 */

import cookie from '@fastify/cookie';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { fastifyOptions } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import { type Context, noHttp } from '../server/context.ts';
import { registerJsonBody } from '../server/http/json-body.ts';
import { registerSecurity } from '../server/http/security.ts';
import { disabledMetrics } from '../server/metrics/metrics.ts';
import { publicProcedure, router } from '../server/trpc.ts';

interface PageRow {
  id: number;
  seq: number;
  author: string;
  text: string;
  createdAt: number;
  clientId: string | null;
}

// The newest `limit` messages of a room by name, one more to tell hasMore, as messages.list reads them.
const historyDb = process.env.BENCH_HISTORY_DB ? new Database(process.env.BENCH_HISTORY_DB) : null;
const newestPage = historyDb?.prepare<[string, number], PageRow>(
  `select m.id, m.seq, u.username as author, m.text, m.created_at as createdAt, m.client_id as clientId
   from messages m join users u on u.id = m.author_id
   where m.room_id = (select id from rooms where name = ?)
   order by m.seq desc limit ?`,
);

/** The page messages.list returns, from one prepared query. */
function readPage(room: string, limit: number) {
  if (!newestPage) throw new Error('start with BENCH_HISTORY_DB for the history baseline');
  const rows = newestPage.all(room, limit + 1);
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit).reverse();
  return {
    messages: page.map((row) => ({
      id: row.id,
      room,
      seq: row.seq,
      author: row.author,
      text: row.text,
      createdAt: new Date(row.createdAt).toISOString(),
      clientId: row.clientId,
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
