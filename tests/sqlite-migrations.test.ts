import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../server/store/migrations-dir.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import type { Store } from '../server/store/store.ts';

/**
 * tests/fixtures/sqlite-0000-init.db was written by the server as it was before the migrations moved
 * from drizzle/ to drizzle/sqlite/ (commit fab5cd0: openDatabase, insertUser, joinRoom,
 * insertMessage): 2 users, 1 session, room "general" with 3 messages (the first with clientId c-1).
 */
const FIXTURE = 'tests/fixtures/sqlite-0000-init.db';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-migrations-'));
  dirs.push(dir);
  const path = join(dir, 'old.db');
  copyFileSync(FIXTURE, path);
  return path;
}

/** A database created today: every migration applied to an empty file. */
async function freshDatabase(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-migrations-'));
  dirs.push(dir);
  const path = join(dir, 'new.db');
  await openSqliteStore({ path }).close();
  return path;
}

function schemaOf(path: string) {
  const sqlite = new Database(path, { readonly: true });
  try {
    return {
      objects: sqlite.prepare('select type, name, tbl_name, sql from sqlite_master order by type, name').all(),
      migrations: sqlite.prepare('select hash, created_at from __drizzle_migrations order by id').all(),
    };
  } finally {
    sqlite.close();
  }
}

describe('SQLite migrations in drizzle/sqlite', () => {
  it('open a database made before the move, applying only the later migrations, keeping its data', async () => {
    const path = copyOfFixture();
    const before = schemaOf(path);
    expect(before.migrations).toHaveLength(1);

    const store = openSqliteStore({ path });
    stores.push(store);
    const alice = await store.users.findByUsername('alice');
    expect(alice).toMatchObject({ id: 1, username: 'Alice' });
    const general = await store.rooms.find('general');
    if (!general || !alice) throw new Error('fixture data missing');
    expect((await store.messages.list(general, { limit: 10 })).messages.map((message) => message.text)).toEqual([
      'hello 1',
      'hello 2',
      'hello 3',
    ]);
    expect(await store.sessions.findUser('a'.repeat(64), new Date('2030-01-01T00:00:00Z'))).toEqual({
      sessionId: 1,
      user: { id: 1, username: 'Alice' },
    });
    // The clientId index still holds, and the next post continues the room's seq and the ids.
    expect(
      await store.messages.insertOne({
        room: general,
        author: { id: alice.id, username: alice.username },
        text: 'hello 1',
        clientId: 'c-1',
        now: new Date(),
      }),
    ).toMatchObject({ kind: 'duplicate', message: { id: 1, seq: 1 } });
    expect(
      await store.messages.insertOne({
        room: general,
        author: { id: alice.id, username: alice.username },
        text: 'after the move',
        clientId: null,
        now: new Date(),
      }),
    ).toMatchObject({ kind: 'inserted', message: { id: 4, seq: 4 }, change: 4 });
    await store.close();

    // The first migration was not applied again; the later ones were, once, and the result has
    // exactly the schema of a database created today.
    const after = schemaOf(path);
    expect(after.migrations.slice(0, 1)).toEqual(before.migrations);
    expect(after).toEqual(schemaOf(await freshDatabase()));
  });

  it('backfill the change log (decision 019) so ids issued before it resume exactly', async () => {
    const path = copyOfFixture();
    const store = openSqliteStore({ path });
    stores.push(store);
    const general = await store.rooms.find('general');
    if (!general) throw new Error('fixture data missing');
    // Before 019 every change was a post: the room's change counter is its last seq, and the
    // message with seq n was posted at change n, which is where a pre-019 id "n" resumes.
    expect(await store.rooms.lastChange(general.id)).toBe(3);
    expect(await store.messages.changeOfSeq(general, 2)).toBe(2);
    expect(
      (await store.messages.changes(general, 1, 10)).changes.map((c) => [c.change, c.type, c.message.seq]),
    ).toEqual([
      [2, 'message', 2],
      [3, 'message', 3],
    ]);
    // The room's creator was not stored then: its first member (Alice) may now moderate it.
    expect(await store.rooms.creator(general.id)).toBe(1);
    const [latest] = (await store.messages.list(general, { limit: 1 })).messages;
    expect(latest).toMatchObject({ seq: 3, editedAt: null, deletedAt: null, reactions: [], replyTo: null });
  });

  it("record the moved migration under the hash and timestamp today's databases carry", () => {
    const folder = defaultMigrationsDir('sqlite');
    const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as {
      entries: { tag: string; when: number }[];
    };
    const [recorded] = schemaOf(FIXTURE).migrations as { hash: string; created_at: number }[];
    const first = journal.entries[0];
    if (!first || !recorded) throw new Error('no migration');
    const hash = createHash('sha256')
      .update(readFileSync(join(folder, `${first.tag}.sql`)))
      .digest('hex');
    expect({ hash, created_at: first.when }).toEqual(recorded);
  });

  it('give a new database the first migration exactly as a database made before the move has it', async () => {
    const fresh = schemaOf(await freshDatabase());
    expect(fresh.migrations.slice(0, 1)).toEqual(schemaOf(FIXTURE).migrations);
  });
});
