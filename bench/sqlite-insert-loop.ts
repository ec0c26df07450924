/**
 * The storage ceiling for the send scenario: a plain better-sqlite3 loop inserting into a
 * messages-like table with the server's pragmas (WAL, synchronous=FULL, foreign_keys=ON), one
 * write transaction per message as the server does. Runs pinned to the server's core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runAsChild } from './lib/load-child.ts';

export interface SqliteLoopConfig {
  warmupMs: number;
  durationMs: number;
  text: string;
}

export interface SqliteLoopResult {
  inserts: number;
  seconds: number;
  perSecond: number;
}

async function run(config: SqliteLoopConfig): Promise<SqliteLoopResult> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-sqlite-'));
  const sqlite = new Database(join(dir, 'loop.db'));
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.exec(`
      create table rooms (id integer primary key autoincrement, name text not null, last_seq integer not null default 0);
      create table messages (
        id integer primary key autoincrement,
        room_id integer not null references rooms(id),
        seq integer not null,
        author_id integer not null,
        text text not null,
        client_id text,
        created_at integer not null
      );
      create unique index messages_room_seq_unique on messages (room_id, seq);
      insert into rooms (name) values ('bench');
    `);
    const insert = sqlite.prepare(
      'insert into messages (room_id, seq, author_id, text, client_id, created_at) values (1, ?, 1, ?, null, ?)',
    );
    let seq = 0;
    const insertOne = sqlite.transaction(() => {
      seq += 1;
      insert.run(seq, config.text, Date.now());
    });

    const loopFor = (ms: number) => {
      const end = performance.now() + ms;
      let count = 0;
      while (performance.now() < end) {
        insertOne.immediate();
        count += 1;
      }
      return count;
    };
    loopFor(config.warmupMs);
    const start = performance.now();
    const inserts = loopFor(config.durationMs);
    const seconds = (performance.now() - start) / 1000;
    return { inserts, seconds, perSecond: inserts / seconds };
  } finally {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runAsChild(run);
