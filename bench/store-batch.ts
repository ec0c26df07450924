/**
 * `npm run bench:store [-- --seconds 2 --database-url postgres://…]`: the post path of each Store
 * backend against bare inserts through the same driver, in one run on one machine.
 *
 * - bare INSERT loop: one INSERT per message into the same messages table, one commit each (pg: one
 *   round trip each; SQLite: one IMMEDIATE transaction each, WAL + synchronous=FULL): the ceiling
 *   for one-at-a-time posting, with no counters, no seq lock, no clientId check;
 * - insertOne: the Store's post, one at a time;
 * - insertBatch ×B: bursts of B posts, one insertBatch (one transaction) each;
 * - PostgreSQL only, "transaction of statements ×B": the same burst as one BEGIN … COMMIT with the
 *   four statements per post sent one by one (seq bump, insert, user and membership counters),
 *   i.e. what atlas_insert_messages replaces: shows what doing a batch in one round trip is worth;
 * - writer, 32 in flight: 32 posters each awaiting its post before the next, through the shared
 *   GroupCommitWriter, as the server's send path sees a busy room.
 *
 * Prints a Markdown table (messages per second). Figures on a shared machine swing: compare rows of
 * one run, not runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { InProcessEventBus } from '../server/bus/event-bus.ts';
import { GroupCommitWriter } from '../server/store/group-commit.ts';
import { openPostgresStore } from '../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import type { NewMessage, RoomRow, SessionUser, Store } from '../server/store/store.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const SECONDS = Number(values.seconds);
const ADMIN_URL = values['database-url'];
const BURSTS = [16, 64, 256];
const TEXT = 'deploy looks good to me, ship it after lunch';

interface Figure {
  backend: string;
  method: string;
  perSecond: number;
  note?: string;
}
const figures: Figure[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Runs `step` (which posts `perStep` messages) for SECONDS after a short warm-up; messages per second. */
async function measure(perStep: number, step: () => Promise<void> | void): Promise<number> {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) await step();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let messages = 0;
  while (performance.now() < end) {
    await step();
    messages += perStep;
  }
  return messages / ((performance.now() - start) / 1000);
}

async function record(
  backend: string,
  method: string,
  perStep: number,
  step: () => Promise<void> | void,
  note?: string,
) {
  const perSecond = await measure(perStep, step);
  figures.push({ backend, method, perSecond, note });
  log(`${backend} ${method}: ${Math.round(perSecond)} msg/s`);
}

async function prepare(store: Store): Promise<{ room: RoomRow; author: SessionUser }> {
  const user = await store.users.insert('bench', 'hash');
  if (!user) throw new Error('bench user taken');
  const { room } = await store.rooms.join(user.id, 'bench', new Date());
  return { room, author: { id: user.id, username: user.username } };
}

async function storeFigures(backend: string, store: Store) {
  const { room, author } = await prepare(store);
  const post = (): NewMessage => ({ room, author, text: TEXT, clientId: null, now: new Date() });
  await record(backend, 'insertOne', 1, async () => {
    await store.messages.insertOne(post());
  });
  for (const size of BURSTS) {
    await record(backend, `insertBatch ×${size}`, size, async () => {
      await store.messages.insertBatch(Array.from({ length: size }, post));
    });
  }
  let batches = 0;
  let batched = 0;
  const writer = new GroupCommitWriter(store.messages, new InProcessEventBus(), {
    onPublishError: () => {},
    onBatch: (size) => {
      batches += 1;
      batched += size;
    },
  });
  const perSecond = await inFlight32((input) => writer.insert(input), post);
  figures.push({
    backend,
    method: 'writer, 32 in flight',
    perSecond,
    note: `${(batched / batches).toFixed(1)} posts per batch`,
  });
  log(`${backend} writer: ${Math.round(perSecond)} msg/s, ${(batched / batches).toFixed(1)} per batch`);
  return { room, author, post };
}

/** 32 posters, each awaiting its post before sending the next, for SECONDS: messages per second. */
async function inFlight32(insert: (input: NewMessage) => Promise<unknown>, post: () => NewMessage): Promise<number> {
  const poster = async (until: number) => {
    let posted = 0;
    while (performance.now() < until) {
      await insert(post());
      posted += 1;
    }
    return posted;
  };
  await Promise.all(Array.from({ length: 32 }, () => poster(performance.now() + 300)));
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: 32 }, () => poster(start + SECONDS * 1000)));
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
}

async function postgresFigures() {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = `atlas_bench_${process.pid}`;
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    const store = await openPostgresStore({ url: url.toString(), poolSize: 4 });
    try {
      await storeFigures('PostgreSQL', store);
    } finally {
      await store.close();
    }

    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ room: string; author: string; seq: string }>(
        "select r.id as room, u.id as author, r.last_seq as seq from rooms r, users u where r.name = 'bench'",
      );
      const ids = rows[0];
      if (!ids) throw new Error('no bench room');
      let seq = Number(ids.seq) + 1_000_000;
      const bare = {
        name: 'bench_bare',
        text: 'insert into messages (room_id, seq, author_id, text, client_id, created_at) values ($1, $2, $3, $4, null, $5)',
      };
      await record('PostgreSQL', 'bare INSERT loop (pg)', 1, async () => {
        seq += 1;
        await client.query(bare, [ids.room, seq, ids.author, TEXT, new Date()]);
      });
      const statements = {
        bump: {
          name: 'bench_bump',
          text: 'update rooms set last_seq = last_seq + 1, message_count = message_count + 1, last_message_at = $2 where id = $1 returning last_seq',
        },
        insert: {
          name: 'bench_insert',
          text: 'insert into messages (room_id, seq, author_id, text, client_id, created_at) values ($1, $2, $3, $4, null, $5) returning id',
        },
        user: { name: 'bench_user', text: 'update users set message_count = message_count + 1 where id = $1' },
        member: {
          name: 'bench_member',
          text: 'update memberships set message_count = message_count + 1 where room_id = $1 and user_id = $2',
        },
      };
      for (const size of BURSTS) {
        await record(
          'PostgreSQL',
          `transaction of statements ×${size}`,
          size,
          async () => {
            await client.query('begin');
            for (let index = 0; index < size; index += 1) {
              const now = new Date();
              const bumped = await client.query<{ last_seq: string }>(statements.bump, [ids.room, now]);
              await client.query(statements.insert, [ids.room, bumped.rows[0]?.last_seq, ids.author, TEXT, now]);
              await client.query(statements.user, [ids.author]);
              await client.query(statements.member, [ids.room, ids.author]);
            }
            await client.query('commit');
          },
          '4 round trips per post',
        );
      }
    } finally {
      await client.end();
    }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function sqliteFigures() {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-store-'));
  try {
    const store = openSqliteStore({ path: join(dir, 'store.db') });
    let post: () => NewMessage;
    try {
      ({ post } = await storeFigures('SQLite', store));
    } finally {
      await store.close();
    }
    // The writer once more on a reopened store, so a drift of the machine shows.
    const again = openSqliteStore({ path: join(dir, 'store.db') });
    try {
      const writer = new GroupCommitWriter(again.messages, new InProcessEventBus(), { onPublishError: () => {} });
      const perSecond = await inFlight32((input) => writer.insert(input), post);
      figures.push({ backend: 'SQLite', method: 'writer, 32 in flight (again)', perSecond });
      log(`SQLite writer again: ${Math.round(perSecond)} msg/s`);
    } finally {
      await again.close();
    }
    // The same bare loop as bench/sqlite-insert-loop.ts, on the server's pragmas.
    const sqlite = new Database(join(dir, 'store.db'));
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
      let seq = 1_000_000;
      const insert = sqlite.prepare(
        'insert into messages (room_id, seq, author_id, text, client_id, created_at) values (1, ?, 1, ?, null, ?)',
      );
      const insertOne = sqlite.transaction(() => {
        seq += 1;
        insert.run(seq, TEXT, Date.now());
      });
      await record('SQLite', 'bare INSERT loop (better-sqlite3)', 1, () => insertOne.immediate());
    } finally {
      sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await postgresFigures();
await sqliteFigures();

const bare = new Map(figures.filter((f) => f.method.startsWith('bare')).map((f) => [f.backend, f.perSecond]));
console.log('| Backend | Method | Messages/s | vs bare INSERT loop | Note |');
console.log('| --- | --- | --- | --- | --- |');
for (const figure of figures) {
  const baseline = bare.get(figure.backend) ?? Number.NaN;
  console.log(
    `| ${figure.backend} | ${figure.method} | ${Math.round(figure.perSecond).toLocaleString('en-US')} | ${(figure.perSecond / baseline).toFixed(2)}× | ${figure.note ?? ''} |`,
  );
}
