import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../server/lib/password.ts';
import { hashSessionToken } from '../server/lib/session-token.ts';
import { openPostgresStore } from '../server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../server/store/sqlite/sqlite-store.ts';
import type { ChangeResult, MessageDto, NewMessage, RoomRow, SessionUser, Store } from '../server/store/store.ts';
import { rest, trpcClient } from './support/clients.ts';
import { type InProcessServer, startServerOn } from './support/pg-server.ts';
import { createTestDatabase, describePostgres, type TestDatabase } from './support/postgres.ts';
import { openSse, type SseStream } from './support/sse.ts';

const root = join(import.meta.dirname, '..');
const MESSAGES = 3000;
const USERS = ['Alice', 'bob', 'carol_c', 'Dave', 'eve-e', 'frank'];
const ROOMS = ['general', 'random', 'ops', 'zeta-room'];
const PASSWORD = 'correct horse battery';
/** Session tokens as clients hold them: one per user, live for a year; the last one expired. */
const TOKENS = USERS.map((_, index) => `token-of-user-${index}`);
const EXPIRED_TOKEN = 'an-expired-token';

/**
 * A database as a server leaves it after some use, written through the Store (far faster than the
 * API for thousands of messages): users with a real password hash, live and expired sessions,
 * rooms joined at different times (one silent, one with a single member), MESSAGES messages of
 * varied text over three rooms, a quarter with clientIds, some replies; then edits (of a quoted
 * message too), reactions (one taken back) and deletes (of a reacted-to and of a quoted message).
 */
async function seed(store: Store): Promise<void> {
  const passwordHash = await hashPassword(PASSWORD);
  const users: SessionUser[] = [];
  for (const name of USERS) {
    const row = await store.users.insert(name, passwordHash);
    if (!row) throw new Error(`${name} taken`);
    users.push({ id: row.id, username: row.username });
  }
  const start = Date.parse('2025-06-01T12:00:00.000Z');
  const yearFromNow = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  for (const [index, user] of users.entries()) {
    await store.sessions.insert(user.id, hashSessionToken(TOKENS[index] as string), yearFromNow);
  }
  await store.sessions.insert(users[0]?.id as number, hashSessionToken(EXPIRED_TOKEN), new Date(Date.now() - 1000));
  const rooms: RoomRow[] = [];
  for (const [r, name] of ROOMS.entries()) {
    // zeta-room: one member, no messages. The others: members joining in turn, some at equal times.
    const members = name === 'zeta-room' ? users.slice(0, 1) : users.filter((_, u) => (u + r) % 4 !== 3);
    for (const [m, user] of members.entries()) {
      const { room } = await store.rooms.join(user.id, name, new Date(start + r * 60_000 + Math.floor(m / 2) * 1000));
      if (m === 0) rooms.push(room);
    }
  }
  const posting = rooms.slice(0, 3);
  const inputs: NewMessage[] = [];
  for (let index = 0; index < MESSAGES; index += 1) {
    const room = posting[index % 3] as RoomRow;
    const r = ROOMS.indexOf(room.name);
    const authors = users.filter((_, u) => (u + r) % 4 !== 3);
    // Message `index` is seq index / 3 + 1 of its room; a reply quotes the message 30 before it.
    const quoted = index % 100 === 50 ? inputs[index - 30] : undefined;
    inputs.push({
      room,
      author: authors[(index * 7) % authors.length] as SessionUser,
      text: `message ${index} ${'é✓ 🙂'.repeat(index % 4)}${index % 50 === 0 ? ` ${'long '.repeat(200)}` : ''}`,
      clientId: index % 4 === 0 ? `client-${index}` : null,
      now: new Date(start + 3_600_000 + index * 1_337),
      replyTo: quoted
        ? { seq: Math.floor((index - 30) / 3) + 1, author: quoted.author.username, text: quoted.text, deleted: false }
        : null,
    });
  }
  for (let from = 0; from < inputs.length; from += 500)
    await store.messages.insertBatch(inputs.slice(from, from + 500));

  const [general, , ops] = posting as [RoomRow, RoomRow, RoomRow];
  const later = (minutes: number) => new Date(start + 86_400_000 + minutes * 60_000);
  const changed = async (result: Promise<ChangeResult>) => expect((await result).kind).toBe('changed');
  const [alice, bob, carol] = users as [SessionUser, SessionUser, SessionUser];
  // general seq 41 is quoted by seq 51 (message 150): its edit changes the quote too.
  await changed(store.messages.edit(general, 41, 'quoted, then edited', later(1)));
  await changed(store.messages.react(general, 41, alice.id, '👍'));
  await changed(store.messages.react(general, 41, carol.id, '👍'));
  await changed(store.messages.react(general, 41, bob.id, '👩🏽‍💻'));
  await changed(store.messages.unreact(general, 41, carol.id, '👍'));
  await changed(store.messages.react(general, 51, bob.id, '🎉'));
  await changed(store.messages.react(general, 6, alice.id, '❤️'));
  await changed(store.messages.delete(general, 6, later(2)));
  // ops seq 7 is quoted by seq 17 (message 50): the reply keeps a quote of a deleted message.
  await changed(store.messages.delete(ops, 7, later(3)));
}

type Change = { id: string | undefined; type: 'message' | 'update'; message: MessageDto };

/** The posts and updates a room's event stream delivered (not presence or typing), in order. */
function changesOf(stream: SseStream): Change[] {
  return stream
    .data()
    .map(({ id, data }) => ({ id, ...(data as { type: string; message: MessageDto }) }))
    .filter((event): event is Change => event.type === 'message' || event.type === 'update');
}

/**
 * A live client on the original before the copy: it receives bob's reaction, then is away while
 * bob edits, reacts and deletes. Resolves to the event id it holds (a room change number, `c<n>`),
 * with which it resumes on the copy (transcript).
 */
async function holdEventId(env: { DATABASE_PATH: string } | { DATABASE_URL: string }): Promise<string> {
  const server = await startServerOn({ ...env, RATE_LIMITS: 'off' });
  try {
    const token = TOKENS[1] as string;
    const send = async (method: string, path: string, body?: unknown) =>
      expect((await rest(server.baseUrl, method, `/rooms/general/messages/${path}`, { token, body })).status).toBe(200);
    const stream = await openSse(server.baseUrl, 'rooms.events', { room: 'general' }, token);
    let held: string | undefined;
    try {
      await send('PUT', `2/reactions/${encodeURIComponent('👍')}`);
      await stream.until(() => changesOf(stream).length > 0);
      held = changesOf(stream)[0]?.id;
    } finally {
      stream.close();
    }
    // Seq 2 and 7 of general are bob's own messages.
    await send('PATCH', '2', { text: 'edited while the client was away' });
    await send('PUT', `1/reactions/${encodeURIComponent('🎉')}`);
    await send('DELETE', '7');
    expect(held).toMatch(/^c\d+$/);
    return held as string;
  } finally {
    await server.close();
  }
}

/** `npm run db:copy -- --from … --to …`, as an operator runs it; resolves to what it printed. */
function dbCopy(from: string, to: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'db:copy', '--', '--from', from, '--to', to], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`db:copy exited ${code}: ${output}`))));
  });
}

type Answer = { request: string; status: number; body: unknown };

/** A JSON copy without createdAt: the server's clock at a write made during the transcript. */
function withoutClock(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, field) => (key === 'createdAt' ? undefined : field))) as unknown;
}

/**
 * Every answer the API gives about the data, in a fixed order: each paged list walked page by page
 * (small pages, so cursors are exercised), each room's history paged back and forward, statistics of
 * every room and user, auth.me of every session; then the same through tRPC; then writes, and a
 * live resume from `heldId`, an event id the original server issued before the copy.
 */
async function transcript(baseUrl: string, heldId: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  const token = TOKENS[1] as string;
  const get = async (path: string, as = token) => {
    const response = await rest<Record<string, unknown>>(baseUrl, 'GET', path, { token: as });
    answers.push({ request: `GET ${path}`, status: response.status, body: response.body });
    return response.body;
  };
  /** Walks a cursor-paged list: `path` with ? or & already in place for the query. */
  const walk = async (path: string, limit: number) => {
    let cursor: unknown = null;
    for (let page = 0; page < 1000; page += 1) {
      const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(String(cursor))}`}`;
      const body = await get(`${path}${query}`);
      if (body.hasMore !== true) return;
      cursor = body.nextCursor;
    }
    throw new Error(`${path} never ended`);
  };

  for (const [index, held] of [...TOKENS, EXPIRED_TOKEN, 'no-such-token'].entries()) {
    await get(`/auth/me?as=${index}`, held);
  }
  await get('/rooms');
  await walk('/rooms?', 1);
  await walk('/rooms?', 3);
  await walk('/stats/rooms?', 2);
  await walk('/stats/users?', 2);
  await walk('/stats/users?', 100);
  for (const room of ROOMS) {
    await walk(`/rooms/${room}/users?`, 2);
    await walk(`/stats/users?room=${room}&`, 2);
    await get(`/rooms/${room}/messages`);
    // Back from the newest to seq 1, then forward from 0 to the newest.
    let before: number | undefined;
    for (;;) {
      const body = await get(`/rooms/${room}/messages?limit=100${before === undefined ? '' : `&before=${before}`}`);
      const messages = body.messages as { seq: number }[];
      if (body.hasMore !== true || messages.length === 0) break;
      before = messages[0]?.seq;
    }
    let after = 0;
    for (;;) {
      const body = await get(`/rooms/${room}/messages?limit=100&after=${after}`);
      const messages = body.messages as { seq: number }[];
      if (body.hasMore !== true || messages.length === 0) break;
      after = messages.at(-1)?.seq as number;
    }
    await get(`/rooms/${room}/messages?before=500&limit=7`);
    await get(`/rooms/${room}/messages?after=995&limit=100`);
  }
  for (const user of USERS) {
    await walk(`/stats/users/${user.toLowerCase()}?`, 1);
  }
  await get('/rooms/nowhere/messages');
  await get('/stats/users/nobody');

  // tRPC answers the same data through its own serialisation.
  const trpc = trpcClient(baseUrl, token);
  const call = async (request: string, work: () => Promise<unknown>) => {
    answers.push({ request, status: 200, body: await work() });
  };
  await call('trpc auth.me', () => trpc.auth.me.query());
  await call('trpc rooms.list', () => trpc.rooms.list.query({ limit: 2 }));
  await call('trpc rooms.members', () => trpc.rooms.members.query({ room: 'general' }));
  await call('trpc messages.list', () => trpc.messages.list.query({ room: 'ops', before: 200, limit: 100 }));
  await call('trpc stats.user', () => trpc.stats.user.query({ username: 'ALICE' }));
  // The copied password hash still checks the password (a new session on each server, same user).
  const signIn = await rest(baseUrl, 'POST', '/auth/sign-in', { body: { username: 'alice', password: PASSWORD } });
  answers.push({ request: 'sign-in', status: signIn.status, body: (signIn.body as { user?: unknown }).user });
  // Writes continue where the original's would: the next message id and seq, the next room id (not
  // shown, but the order of equal names is), and the clientIds bob used before the copy still
  // conflict. Only createdAt (the server's clock at the write) may differ.
  const write = async (request: string, path: string, body: unknown, method = 'POST') => {
    const response = await rest(baseUrl, method, path, { token, body });
    answers.push({ request, status: response.status, body: withoutClock(response.body) });
  };
  for (let index = 0; index < 60; index += 4) {
    await write(`post client-${index}`, '/rooms/general/messages', {
      text: 'after the copy',
      clientId: `client-${index}`,
    });
  }
  await write('join a new room', '/rooms/after-copy/join', {});

  // The client away since heldId resumes with it: from the copied change log it gets bob's edit,
  // reaction and delete (holdEventId), then the posts above, then this reaction, each once, in order.
  const stream = await openSse(baseUrl, 'rooms.events', { room: 'general', lastEventId: heldId }, token);
  try {
    await write('react 🏁', `/rooms/general/messages/3/reactions/${encodeURIComponent('🏁')}`, undefined, 'PUT');
    await stream.until(() =>
      changesOf(stream).some((change) => change.message.reactions.length > 0 && change.message.seq === 3),
    );
    answers.push({ request: `resume from ${heldId}`, status: stream.status, body: withoutClock(changesOf(stream)) });
  } finally {
    stream.close();
  }
  return answers;
}

/** Starts a server on each database in turn (one at a time) and records its transcript. */
async function transcripts(heldId: string, ...envs: Array<{ DATABASE_PATH: string } | { DATABASE_URL: string }>) {
  const all: Answer[][] = [];
  for (const env of envs) {
    let server: InProcessServer | undefined;
    try {
      server = await startServerOn({ ...env, RATE_LIMITS: 'off' });
      all.push(await transcript(server.baseUrl, heldId));
    } finally {
      await server?.close();
    }
  }
  return all;
}

function expectSane(answers: Answer[], heldId: string) {
  // The transcript is about data: the comparison would be empty if the server refused everything.
  expect(answers.length).toBeGreaterThan(120);
  const statuses = answers.map((answer) => answer.status);
  // 401: the expired and the unknown token; 404: an unknown room and user; 409: clientIds bob
  // used before the copy.
  expect(answers.filter((answer) => answer.status === 404)).toHaveLength(2);
  const conflicts = answers.filter((answer) => answer.status === 409);
  expect(conflicts.length).toBeGreaterThan(0);
  expect(statuses.filter((status) => status === 200).length).toBe(answers.length - 4 - conflicts.length);
  expect(answers.filter((answer) => answer.status === 401).map((answer) => answer.request)).toEqual([
    'GET /auth/me?as=6',
    'GET /auth/me?as=7',
  ]);
  const messages = answers
    .filter((answer) => /^GET \/rooms\/general\/messages\?limit=100&after=/.test(answer.request))
    .flatMap((answer) => (answer.body as { messages: MessageDto[] }).messages);
  expect(messages.map((message) => message.seq)).toEqual(messages.map((_, index) => index + 1));
  expect(messages).toHaveLength(MESSAGES / 3);
  // Seeded edits, reactions, deletes and replies show in the listings.
  expect(messages[40]).toMatchObject({ text: 'quoted, then edited', editedAt: expect.any(String) });
  expect(messages[40]?.reactions).toEqual([
    { emoji: '👍', count: 1, usernames: ['Alice'] },
    { emoji: '👩🏽‍💻', count: 1, usernames: ['bob'] },
  ]);
  expect(messages[50]?.replyTo).toMatchObject({ seq: 41, text: 'quoted, then edited', deleted: false });
  expect(messages[5]).toMatchObject({ text: '', deletedAt: expect.any(String), reactions: [] });

  // The resume: every change after the held one, numbered on from it without a gap.
  const resumed = answers.find((answer) => answer.request === `resume from ${heldId}`)?.body as Change[];
  const held = Number(heldId.slice(1));
  expect(resumed.map((change) => change.id)).toEqual(resumed.map((_, index) => `c${held + index + 1}`));
  expect(resumed.slice(0, 3).map((change) => [change.type, change.message.seq])).toEqual([
    ['update', 2],
    ['update', 1],
    ['update', 7],
  ]);
  expect(resumed.filter((change) => change.type === 'message').length).toBeGreaterThan(0);
  expect(resumed.at(-1)).toMatchObject({ type: 'update', message: { seq: 3, reactions: [{ emoji: '🏁' }] } });
}

describePostgres('db:copy, compared through every API answer', { timeout: 180_000 }, () => {
  let dir: string;
  const databases: TestDatabase[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atlas-copy-api-'));
  });
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SQLite -> PostgreSQL: a server on the copy answers every request exactly as one on the original', async () => {
    const source = join(dir, 'source.db');
    const store = openSqliteStore({ path: source });
    await seed(store);
    await store.close();
    const target = await createTestDatabase();
    databases.push(target);

    const heldId = await holdEventId({ DATABASE_PATH: source });
    const output = await dbCopy(source, target.url);
    expect(output).toContain(`messages: ${MESSAGES}/${MESSAGES} (100%)`);

    const [original, copy] = (await transcripts(heldId, { DATABASE_PATH: source }, { DATABASE_URL: target.url })) as [
      Answer[],
      Answer[],
    ];
    expectSane(original, heldId);
    expect(copy).toEqual(original);
  });

  it('PostgreSQL -> SQLite: a server on the copy answers every request exactly as one on the original', async () => {
    // Written by the PostgreSQL store itself, so its values (e.g. rooms.created_at, set by the
    // database's clock to the microsecond) are PostgreSQL's own.
    const source = await createTestDatabase();
    databases.push(source);
    const store = await openPostgresStore({ url: source.url, poolSize: 2 });
    try {
      await seed(store);
    } finally {
      await store.close();
    }
    const target = join(dir, 'from-postgres.db');

    const heldId = await holdEventId({ DATABASE_URL: source.url });
    const output = await dbCopy(source.url, target);
    expect(output).toContain(`messages: ${MESSAGES}/${MESSAGES} (100%)`);

    const [original, copy] = (await transcripts(heldId, { DATABASE_URL: source.url }, { DATABASE_PATH: target })) as [
      Answer[],
      Answer[],
    ];
    expectSane(original, heldId);
    expect(copy).toEqual(original);
  });
});
