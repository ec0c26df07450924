/**
 * The storage ceiling for the send scenario on PostgreSQL (`--database postgres`): a plain `pg`
 * loop inserting into a messages-like table, one statement and one commit per message, in a
 * database of its own that is dropped afterwards. The PostgreSQL server runs unpinned, as it does
 * for atlas-chat.
 */
import pg from 'pg';
import { runAsChild } from './lib/load-child.ts';

export interface PgLoopConfig {
  warmupMs: number;
  durationMs: number;
  text: string;
  /** An admin URL: the loop creates and drops its own database beside the one it names. */
  adminUrl: string;
}

export interface PgLoopResult {
  inserts: number;
  seconds: number;
  perSecond: number;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function run(config: PgLoopConfig): Promise<PgLoopResult> {
  const name = `atlas_bench_loop_${process.pid}`;
  await withClient(config.adminUrl, (admin) => admin.query(`create database "${name}"`));
  const url = new URL(config.adminUrl);
  url.pathname = `/${name}`;
  try {
    return await withClient(url.toString(), async (client) => {
      await client.query(`
        create table messages (
          id bigserial primary key, room_id integer not null, seq integer not null, author_id integer not null,
          text text not null, client_id text, created_at timestamptz not null
        );
        create unique index messages_room_seq_unique on messages (room_id, seq);
      `);
      let seq = 0;
      const loopFor = async (ms: number) => {
        const end = performance.now() + ms;
        let count = 0;
        while (performance.now() < end) {
          seq += 1;
          await client.query({
            name: 'insert',
            text: 'insert into messages (room_id, seq, author_id, text, client_id, created_at) values (1, $1, 1, $2, null, now())',
            values: [seq, config.text],
          });
          count += 1;
        }
        return count;
      };
      await loopFor(config.warmupMs);
      const start = performance.now();
      const inserts = await loopFor(config.durationMs);
      const seconds = (performance.now() - start) / 1000;
      return { inserts, seconds, perSecond: inserts / seconds };
    });
  } finally {
    await withClient(config.adminUrl, (admin) => admin.query(`drop database if exists "${name}" with (force)`));
  }
}

runAsChild(run);
