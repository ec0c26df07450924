import Database from 'better-sqlite3';
import pg from 'pg';
import { tsQuery } from '../../server/store/postgres/search.ts';
import { ftsQuery } from '../../server/store/search.ts';
import { searchWords } from '../../shared/search-text.ts';
import type { BenchContext, Row, ScenarioResult } from '../lib/context.ts';
import { cpuPerOperation, measureIdleCpu, readCpuSeconds, startServer, windowMeter } from '../lib/processes.ts';
import { cpuColumns, formatNumber, noiseNotes } from '../lib/report.ts';
import { type LatencySummary, summarizeLatencies } from '../lib/stats.ts';

/**
 * Search latency on the history room (100,000 messages in the full run), on the backend of the run
 * (--database): GET /api/search one request at a time (the latency a user sees, and the server CPU
 * per search), against the bare full-text query that finds the same page of ids on the same
 * database, run back to back from this process (no HTTP, no session, no DTOs, no snippets). The
 * ratio is how many times the bare query's latency a search takes.
 */

const LIMIT = 20;

/**
 * The seed's texts (bench/lib/seed.ts) are "#<index>" and words from a list of twelve, so these are
 * the extremes a user meets: words in most messages, a word in one message, a word in none.
 */
const QUERIES = [
  { q: 'deploy', label: 'a word in most messages', hits: LIMIT },
  { q: 'ship lunch', label: 'two such words', hits: LIMIT },
  { q: '#4242', label: 'a word in one message', hits: 1 },
  { q: 'zebra', label: 'a word in none', hits: 0 },
] as const;

const SQLITE_BARE = `select f.rowid as id from messages_fts f join messages m on m.id = f.rowid
  where messages_fts match ? and m.deleted_at is null
    and m.room_id in (select room_id from memberships where user_id = ?)
  order by f.rowid desc limit ?`;

/**
 * What PostgreSQL does with the one obvious statement (its own plan): the store instead reads the
 * newest messages first, then the GIN index (server/store/postgres/search.ts), as this plan walks
 * the whole table for a rare word.
 */
const PG_BARE = `select m.id from messages m
  where m.search @@ to_tsquery('atlas_search', $1) and m.deleted_at is null
    and m.room_id in (select room_id from memberships where user_id = $2)
  order by m.id desc limit $3`;

interface Bare {
  run(q: string): Promise<number>;
  /** CPU seconds of whatever executes the query (this process for SQLite, the backend for PostgreSQL). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

async function openBare(env: Record<string, string>, userId: number): Promise<Bare> {
  if (env.DATABASE_URL === undefined) {
    const sqlite = new Database(env.DATABASE_PATH ?? '', { readonly: true });
    const statement = sqlite.prepare<[string, number, number], { id: number }>(SQLITE_BARE);
    return {
      run: async (q) => statement.all(ftsQuery(searchWords(q)), userId, LIMIT + 1).length,
      cpuSeconds: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      },
      close: async () => void sqlite.close(),
    };
  }
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  const backendPid = Number((await client.query('select pg_backend_pid() as pid')).rows[0].pid);
  return {
    // Unnamed, like the store's query: each run is planned for its own words.
    run: async (q) => (await client.query(PG_BARE, [tsQuery(searchWords(q)), userId, LIMIT + 1])).rowCount ?? 0,
    cpuSeconds: () => readCpuSeconds(backendPid),
    close: () => client.end(),
  };
}

/** Runs the bare query back to back for `durationMs` after a warm-up; latency and CPU per query. */
async function measureBare(bare: Bare, q: string, warmupMs: number, durationMs: number) {
  for (const end = performance.now() + warmupMs; performance.now() < end; ) await bare.run(q);
  const latencies: number[] = [];
  let rows = 0;
  const cpuBefore = bare.cpuSeconds();
  for (const end = performance.now() + durationMs; performance.now() < end; ) {
    const started = performance.now();
    rows = await bare.run(q);
    latencies.push(performance.now() - started);
  }
  const microsPerOp = ((bare.cpuSeconds() - cpuBefore) * 1e6) / latencies.length;
  return { latencyMs: summarizeLatencies(Float64Array.from(latencies)), microsPerOp, rows };
}

/**
 * GET the search back to back from this process, one at a time, for `durationMs` after a warm-up:
 * per-request latency at microsecond resolution (autocannon's histogram counts whole milliseconds,
 * and most searches take less than one), and the server's CPU per search, its idle use subtracted.
 */
async function measureApi(
  url: string,
  token: string,
  serverPid: number,
  sizes: { idleMs: number; warmupMs: number; durationMs: number },
) {
  const headers = { authorization: `Bearer ${token}` };
  const get = async () => {
    const response = await fetch(url, { headers });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${body.slice(0, 300)}`);
    return body;
  };
  const sample = await get();
  const results = (JSON.parse(sample) as { results: unknown[] }).results.length;
  const idleCores = await measureIdleCpu(serverPid, sizes.idleMs);
  for (const end = performance.now() + sizes.warmupMs; performance.now() < end; ) await get();
  const latencies: number[] = [];
  const meter = windowMeter(serverPid);
  for (const end = performance.now() + sizes.durationMs; performance.now() < end; ) {
    const started = performance.now();
    await get();
    latencies.push(performance.now() - started);
  }
  const window = meter();
  return {
    results,
    sample: sample.slice(0, 300),
    latencyMs: summarizeLatencies(Float64Array.from(latencies)),
    cpu: cpuPerOperation(window, idleCores, latencies.length),
    otherCpu: window.otherCpu,
  };
}

const ms = (latency: LatencySummary) => `p50 ${formatNumber(latency.p50)} ms, p99 ${formatNumber(latency.p99)} ms`;

export async function runSearch(context: BenchContext): Promise<ScenarioResult> {
  const { idleMs, warmupMs, durationMs, messages } = context.sizes.history;
  const seed = await context.historyDatabase();
  const token = seed.accounts[0]?.token ?? '';
  const backend = context.databases.backend;
  const env = await context.databases.serverEnv(seed.path);
  if (env.DATABASE_URL !== undefined) {
    // A bulk copy leaves the GIN index's pending list full and no statistics: autovacuum would
    // fix both minutes later on a real server; the figures are for that steady state.
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    await client.query('vacuum analyze');
    await client.end();
  }
  context.log(`search (${backend}): GET /api/search, one at a time, over ${messages} messages`);
  const atlas = await startServer('server/main.ts', context.pinning, env, context.serverNodeArgs('search-atlas'));
  const api: Awaited<ReturnType<typeof measureApi>>[] = [];
  try {
    for (const query of QUERIES) {
      const url = `${atlas.baseUrl}/api/search?${new URLSearchParams({ q: query.q, limit: String(LIMIT) })}`;
      const result = await measureApi(url, token, atlas.pid, { idleMs, warmupMs, durationMs });
      // The figure must be real searches: a full page where the words are everywhere, none for a miss.
      if (result.results !== query.hits) {
        throw new Error(`search "${query.q}": ${result.results} results, expected ${query.hits}: ${result.sample}`);
      }
      api.push(result);
    }
  } finally {
    await atlas.stop();
  }

  context.log(`search (${backend}): the bare full-text query, back to back`);
  // Every seeded user is a member of the history room; the first one's id is 1.
  const bare = await openBare(env, 1);
  const bareResults: Awaited<ReturnType<typeof measureBare>>[] = [];
  try {
    for (const query of QUERIES) bareResults.push(await measureBare(bare, query.q, warmupMs, durationMs));
  } finally {
    await bare.close();
  }

  const rows: Row[] = QUERIES.map((query, index) => {
    const ours = api[index] as Awaited<ReturnType<typeof measureApi>>;
    const base = bareResults[index] as Awaited<ReturnType<typeof measureBare>>;
    return {
      scenario: 'search',
      figure: `GET /api/search?q=${query.q} (${query.label}), ${messages} messages, ${backend}`,
      value: ours.latencyMs.p50,
      unit: 'ms',
      display: ms(ours.latencyMs),
      baselineLabel: `bare ${backend === 'sqlite' ? 'FTS5' : 'tsquery'} query for the same page of ids`,
      baseline: base.latencyMs.p50,
      baselineDisplay: ms(base.latencyMs),
      ratio: ours.latencyMs.p50 / base.latencyMs.p50,
      target: null,
      met: null,
      cpu: cpuColumns(ours.cpu, { microsPerOp: base.microsPerOp }),
    };
  });
  return {
    rows,
    details: { messages, limit: LIMIT, backend, queries: QUERIES, api, bare: bareResults },
    notes: [
      'latency one request at a time (fetch over keep-alive from the bench process); the ratio is search p50 / bare p50 (lower is better)',
      backend === 'sqlite'
        ? 'bare CPU: this process running the FTS5 query; server CPU: the atlas-chat process (query, DTOs, snippets, HTTP)'
        : "bare: the single obvious statement with PostgreSQL's own plan (a backward primary-key walk, slow for rare words, which the store's two passes avoid); bare CPU: the PostgreSQL backend; server CPU: the atlas-chat process only (PostgreSQL's share not included)",
      ...noiseNotes(
        Object.fromEntries(QUERIES.map((query, index) => [query.q, { otherCpu: api[index]?.otherCpu ?? 0 }])),
      ),
    ],
  };
}
