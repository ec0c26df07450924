import Database from 'better-sqlite3';
import { describe, expect, test, vi } from 'vitest';
import {
  answered,
  MESSAGE_KEYS,
  type MessageApi,
  messageApi,
  refused,
  restPaths,
  type TransportName,
} from './support/changes.ts';
import { rest, trpcClient, uniqueName } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  isoDate,
  joinRoom,
  type Member,
  type MessageDto,
  newUser,
  ok,
  type RoomSummary,
  type TestUser,
} from './support/fixtures.ts';
import { roomOfFour } from './support/room-of-four.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/** Issue 12's message changes over real HTTP: one server per file, one fresh room per test. */
const it = roomOfFour({ roomPrefix: 'chg' });

/** A server with the default configuration, RATE_LIMITS=on, for the one test that needs it. */
const limited = test.extend<{ limitedServer: TestServer }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
  limitedServer: async ({}, use) => {
    const server = await startTestServer();
    await use(server);
    await server.close();
  },
});

/** The room as messages.list has it, over REST (every page). */
function listed(server: TestServer, user: TestUser, room: string): Promise<MessageDto[]> {
  return allMessages(server.baseUrl, user.token, room);
}

async function listedSeq(server: TestServer, user: TestUser, room: string, seq: number): Promise<MessageDto> {
  const message = (await listed(server, user, room)).find((candidate) => candidate.seq === seq);
  if (!message) throw new Error(`seq ${seq} is not listed in ${room}`);
  return message;
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

/** Waits until the server's clock must have moved past `iso` (a timestamp it answered). */
async function clockPast(iso: string): Promise<void> {
  await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(Date.parse(iso) + 2), { interval: 2 });
}

const ACCEPTED_EMOJI = [
  ['thumbs up', '👍'],
  ['red heart with VS16', '❤️'],
  ['rainbow flag (ZWJ sequence)', '🏳️‍🌈'],
  ['thumbs up with a skin tone', '👍🏽'],
  ['flag of France (regional indicators)', '🇫🇷'],
  ['flag of Japan', '🇯🇵'],
  ['keycap 1', '1️⃣'],
  ['keycap #', '#️⃣'],
  ['family (ZWJ sequence)', '👨‍👩‍👧‍👦'],
] as const;

const REFUSED_EMOJI = [
  ['a letter', 'a'],
  ['two emoji', '👍👍'],
  ['an emoji and a trailing space', '👍 '],
  ['an emoji and a leading space', ' 👍'],
  ['a word', 'text'],
  ['a plain digit', '1'],
  ['a lone regional indicator', '🇫'],
  ['an emoji with text', 'ok👍'],
] as const;

/** Twenty different emoji, and one more. */
const TWENTY = [
  '😀',
  '😁',
  '😂',
  '🤣',
  '😃',
  '😄',
  '😅',
  '😆',
  '😉',
  '😊',
  '😋',
  '😎',
  '😍',
  '😘',
  '🥰',
  '😗',
  '😙',
  '😚',
  '🙂',
  '🤗',
];
const TWENTY_FIRST = '🤩';

describe.each<TransportName>(['REST', 'tRPC'])('message changes over %s', (via) => {
  const apiOf = (server: TestServer): MessageApi => messageApi(via, server.baseUrl);

  describe('edit', () => {
    it('the author edits their message: {message} with the new text and editedAt, as messages.list has it', async ({
      server,
      users: { alice },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'first draft'));
      expect(posted).toMatchObject({ editedAt: null, deletedAt: null, reactions: [], replyTo: null });
      expect(Object.keys(posted)).toEqual(MESSAGE_KEYS);

      const edited = answered(await api.edit(alice, room, posted.seq, '  final text\n'));
      expect(Object.keys(edited)).toEqual(MESSAGE_KEYS);
      expect(edited).toEqual({ ...posted, text: 'final text', editedAt: edited.editedAt });
      expect(isoDate(edited.editedAt ?? '')).toBe(true);
      expect(Date.parse(edited.editedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(posted.createdAt));
      expect(await listed(server, alice, room)).toEqual([edited]);
    });

    it("someone else's message is 403, even for the room's creator; the text stays", async ({
      server,
      users: { owner, alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'mine'));
      refused(await api.edit(bob, room, posted.seq, 'hijacked'), 403);
      refused(await api.edit(owner, room, posted.seq, 'moderated'), 403);
      expect(await listed(server, alice, room)).toEqual([posted]);
    });

    it('to the same text is a no-op: editedAt stays null on a fresh message and keeps its time after an edit', async ({
      server,
      users: { alice },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'same'));
      expect(answered(await api.edit(alice, room, posted.seq, 'same'))).toEqual(posted);

      const edited = answered(await api.edit(alice, room, posted.seq, 'changed'));
      expect(edited.editedAt).not.toBeNull();
      await clockPast(edited.editedAt ?? '');
      // The same text after trimming is the same text.
      expect(answered(await api.edit(alice, room, posted.seq, 'changed'))).toEqual(edited);
      expect(answered(await api.edit(alice, room, posted.seq, ' changed \n'))).toEqual(edited);
      expect(await listed(server, alice, room)).toEqual([edited]);

      // A real change afterwards moves editedAt on.
      const again = answered(await api.edit(alice, room, posted.seq, 'changed again'));
      expect(Date.parse(again.editedAt ?? '')).toBeGreaterThan(Date.parse(edited.editedAt ?? ''));
    });

    it('refuses a blank or too long text with 400 naming "text"', async ({ server, users: { alice }, room }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'fine'));
      refused(await api.edit(alice, room, posted.seq, ' \n '), 400, 'text');
      refused(await api.edit(alice, room, posted.seq, 'x'.repeat(4001)), 400, 'text');
      expect(await listed(server, alice, room)).toEqual([posted]);
    });
  });

  describe('delete', () => {
    it("the room's creator deletes another member's message; the tombstone keeps seq, author and createdAt", async ({
      server,
      users: { owner, alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const before = answered(await api.post(alice, room, 'regrettable'));
      const after = answered(await api.post(bob, room, 'next one'));
      answered(await api.react(bob, room, before.seq, '👍'));
      const edited = answered(await api.edit(alice, room, before.seq, 'still regrettable'));
      expect(edited.reactions).toHaveLength(1);

      const tombstone = answered(await api.remove(owner, room, before.seq));
      expect(Object.keys(tombstone)).toEqual(MESSAGE_KEYS);
      expect(tombstone).toMatchObject({
        id: before.id,
        room,
        seq: before.seq,
        author: alice.username,
        createdAt: before.createdAt,
        clientId: before.clientId,
        text: '',
        reactions: [],
        replyTo: null,
      });
      expect(isoDate(tombstone.deletedAt ?? '')).toBe(true);
      expect(await listed(server, bob, room)).toEqual([tombstone, after]);
    });

    it('the author deletes their own; deleting again answers the same tombstone', async ({
      server,
      users: { owner, alice },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'oops'));
      const tombstone = answered(await api.remove(alice, room, posted.seq));
      expect(tombstone).toEqual({ ...posted, text: '', deletedAt: tombstone.deletedAt });
      expect(tombstone.deletedAt).not.toBeNull();
      await clockPast(tombstone.deletedAt ?? '');
      expect(answered(await api.remove(alice, room, posted.seq))).toEqual(tombstone);
      expect(answered(await api.remove(owner, room, posted.seq))).toEqual(tombstone);
      expect(await listed(server, alice, room)).toEqual([tombstone]);
    });

    it("a member who is neither the author nor the room's creator gets 403", async ({
      server,
      users: { owner, alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const fromAlice = answered(await api.post(alice, room, 'by alice'));
      const fromOwner = answered(await api.post(owner, room, 'by the creator'));
      refused(await api.remove(bob, room, fromAlice.seq), 403);
      refused(await api.remove(alice, room, fromOwner.seq), 403);
      // Creating another room does not make you a moderator of this one.
      await joinRoom(server.baseUrl, bob.token, uniqueName('bobs'));
      refused(await api.remove(bob, room, fromOwner.seq), 403);
      expect(await listed(server, bob, room)).toEqual([fromAlice, fromOwner]);
    });

    it('the stored text is erased, not hidden (SQLite file)', async ({ server, users: { alice }, room }) => {
      if (server.backend !== 'sqlite') return;
      const api = apiOf(server);
      const secret = `secret ${uniqueName('text')}`;
      const posted = answered(await api.post(alice, room, secret));
      answered(await api.remove(alice, room, posted.seq));
      const db = new Database(server.databasePath, { readonly: true });
      try {
        const found = db.prepare('select count(*) as n from messages where text like ?').get(`%${secret}%`) as {
          n: number;
        };
        expect(found.n).toBe(0);
      } finally {
        db.close();
      }
    });
  });

  describe('who may change what', () => {
    it('a signed-in non-member gets 403 for edit, delete, react and unreact', async ({
      server,
      users: { alice, outsider },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'members only'));
      refused(await api.edit(outsider, room, posted.seq, 'x'), 403);
      refused(await api.remove(outsider, room, posted.seq), 403);
      refused(await api.react(outsider, room, posted.seq, '👍'), 403);
      refused(await api.unreact(outsider, room, posted.seq, '👍'), 403);
      refused(await api.post(outsider, room, 'reply', posted.seq), 403);
      expect(await listed(server, alice, room)).toEqual([posted]);
    });

    it('404 for an unknown seq and for an unknown room', async ({ server, users: { alice }, room }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'only one'));
      for (const seq of [posted.seq + 1, 999_999, 0]) {
        refused(await api.edit(alice, room, seq, 'x'), 404);
        refused(await api.remove(alice, room, seq), 404);
        refused(await api.react(alice, room, seq, '👍'), 404);
        refused(await api.unreact(alice, room, seq, '👍'), 404);
      }
      const nowhere = uniqueName('nowhere');
      refused(await api.edit(alice, nowhere, 1, 'x'), 404);
      refused(await api.remove(alice, nowhere, 1), 404);
      refused(await api.react(alice, nowhere, 1, '👍'), 404);
      refused(await api.unreact(alice, nowhere, 1, '👍'), 404);
      expect(await listed(server, alice, room)).toEqual([posted]);
    });

    it('a deleted message cannot be edited (409) or reacted to (409)', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'soon gone'));
      answered(await api.react(bob, room, posted.seq, '👍'));
      const tombstone = answered(await api.remove(alice, room, posted.seq));
      refused(await api.edit(alice, room, posted.seq, 'back from the dead'), 409);
      refused(await api.react(bob, room, posted.seq, '👍'), 409);
      refused(await api.react(bob, room, posted.seq, '🎉'), 409);
      // The lead's contract: unreacting on a deleted message is a 409 too (its reactions are gone).
      refused(await api.unreact(bob, room, posted.seq, '👍'), 409);
      expect(await listed(server, alice, room)).toEqual([tombstone]);
    });

    it('401 without a session', async ({ server, users: { alice }, room }) => {
      const posted = answered(await apiOf(server).post(alice, room, 'x'));
      const anonymous: TestUser = { ...alice, token: '', trpc: trpcClient(server.baseUrl) };
      const api = apiOf(server);
      refused(await api.edit(anonymous, room, posted.seq, 'y'), 401);
      refused(await api.remove(anonymous, room, posted.seq), 401);
      refused(await api.react(anonymous, room, posted.seq, '👍'), 401);
      refused(await api.unreact(anonymous, room, posted.seq, '👍'), 401);
    });
  });

  describe('reactions', () => {
    it('reacting twice is idempotent, and so is unreacting when not reacted', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'react to me'));
      const once = answered(await api.react(bob, room, posted.seq, '👍'));
      expect(once).toEqual({ ...posted, reactions: [{ emoji: '👍', count: 1, usernames: [bob.username] }] });
      expect(answered(await api.react(bob, room, posted.seq, '👍'))).toEqual(once);
      expect(answered(await api.unreact(bob, room, posted.seq, '❤️'))).toEqual(once);
      expect(answered(await api.unreact(alice, room, posted.seq, '👍'))).toEqual(once);
      expect(await listed(server, alice, room)).toEqual([once]);

      expect(answered(await api.unreact(bob, room, posted.seq, '👍'))).toEqual(posted);
      expect(answered(await api.unreact(bob, room, posted.seq, '👍'))).toEqual(posted);
      expect(await listed(server, alice, room)).toEqual([posted]);
      // Reactions are not edits.
      expect(posted.editedAt).toBeNull();
    });

    it('are ordered by first use, with count and usernames in the order people reacted', async ({
      server,
      users: { owner, alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'popular'));
      answered(await api.react(alice, room, posted.seq, '👍'));
      answered(await api.react(bob, room, posted.seq, '❤️'));
      answered(await api.react(owner, room, posted.seq, '👍'));
      const third = answered(await api.react(bob, room, posted.seq, '👍'));
      expect(third.reactions).toEqual([
        { emoji: '👍', count: 3, usernames: [alice.username, owner.username, bob.username] },
        { emoji: '❤️', count: 1, usernames: [bob.username] },
      ]);
      // Taking back a reaction keeps the order (the first reactor of 👍 stays: see the report on
      // what "first use" means once the first reactor takes theirs back).
      const fewer = answered(await api.unreact(owner, room, posted.seq, '👍'));
      expect(fewer.reactions).toEqual([
        { emoji: '👍', count: 2, usernames: [alice.username, bob.username] },
        { emoji: '❤️', count: 1, usernames: [bob.username] },
      ]);
      const more = answered(await api.react(alice, room, posted.seq, '🎉'));
      expect(more.reactions).toEqual([...fewer.reactions, { emoji: '🎉', count: 1, usernames: [alice.username] }]);
      // Reacting again puts you last among that emoji's reactors.
      const back = answered(await api.react(owner, room, posted.seq, '👍'));
      expect(back.reactions[0]).toEqual({
        emoji: '👍',
        count: 3,
        usernames: [alice.username, bob.username, owner.username],
      });
      // An emoji nobody has any more is gone from the list.
      const gone = answered(await api.unreact(bob, room, posted.seq, '❤️'));
      expect(gone.reactions.map((reaction) => reaction.emoji)).toEqual(['👍', '🎉']);
      expect(await listed(server, bob, room)).toEqual([gone]);
    });

    it('accepts one emoji of any kind, stored as sent (REST: URL-encoded in the path)', async ({
      server,
      users: { alice },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'all kinds'));
      let last = posted;
      for (const [label, emoji] of ACCEPTED_EMOJI) {
        const outcome = await api.react(alice, room, posted.seq, emoji);
        expect(outcome.status, `${label} ${JSON.stringify(outcome.failure ?? outcome.response?.body)}`).toBe(200);
        last = answered(outcome);
      }
      expect(last.reactions.map((reaction) => reaction.emoji)).toEqual(ACCEPTED_EMOJI.map(([, emoji]) => emoji));
      expect(await listed(server, alice, room)).toEqual([last]);
      // Unreacting takes the same encoded emoji.
      for (const [, emoji] of ACCEPTED_EMOJI) last = answered(await api.unreact(alice, room, posted.seq, emoji));
      expect(last.reactions).toEqual([]);
    });

    it.for(REFUSED_EMOJI)(
      'refuses %s with 400 naming "emoji" (react and unreact)',
      async ([, emoji], { server, users, room }) => {
        const api = apiOf(server);
        const posted = answered(await api.post(users.alice, room, 'picky'));
        refused(await api.react(users.alice, room, posted.seq, emoji), 400, 'emoji');
        refused(await api.unreact(users.alice, room, posted.seq, emoji), 400, 'emoji');
        expect(await listed(server, users.alice, room)).toEqual([posted]);
      },
    );

    // Over REST an empty emoji (`…/reactions/`) matches no route; server/http/empty-emoji.ts answers
    // the procedure's 400 instead of the adapter's 404.
    it('refuses an empty emoji with 400 naming "emoji"', async ({ server, users: { alice }, room }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'empty'));
      refused(await api.react(alice, room, posted.seq, ''), 400, 'emoji');
      refused(await api.unreact(alice, room, posted.seq, ''), 400, 'emoji');
    });

    it('allows at most 20 different emoji on a message: the 21st is 409, known ones still count', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'so many feelings'));
      let last = posted;
      for (const emoji of TWENTY) last = answered(await api.react(alice, room, posted.seq, emoji));
      expect(last.reactions.map((reaction) => reaction.emoji)).toEqual(TWENTY);

      refused(await api.react(bob, room, posted.seq, TWENTY_FIRST), 409);
      refused(await api.react(alice, room, posted.seq, TWENTY_FIRST), 409);
      const joined = answered(await api.react(bob, room, posted.seq, TWENTY[0] ?? ''));
      expect(joined.reactions[0]).toEqual({ emoji: TWENTY[0], count: 2, usernames: [alice.username, bob.username] });
      expect(await listed(server, alice, room)).toEqual([joined]);

      // Once one emoji is gone entirely there is room for another.
      answered(await api.unreact(alice, room, posted.seq, TWENTY[19] ?? ''));
      const room21 = answered(await api.react(bob, room, posted.seq, TWENTY_FIRST));
      expect(room21.reactions.map((reaction) => reaction.emoji)).toEqual([...TWENTY.slice(0, 19), TWENTY_FIRST]);
    });
  });

  describe('at the same time', () => {
    it('the same reaction 20 times at once counts once; 25 new emoji at once: exactly 20 are taken, the rest 409', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'contested'));
      const same = await Promise.all(range(20).map(() => api.react(bob, room, posted.seq, '🎉')));
      expect(same.map((outcome) => outcome.status)).toEqual(range(20).map(() => 200));
      expect((await listedSeq(server, alice, room, posted.seq)).reactions).toEqual([
        { emoji: '🎉', count: 1, usernames: [bob.username] },
      ]);
      answered(await api.unreact(bob, room, posted.seq, '🎉'));

      const many = [...TWENTY, TWENTY_FIRST, '🤔', '🤨', '😐', '😑'];
      const outcomes = await Promise.all(
        many.map((emoji, index) => api.react(index % 2 ? alice : bob, room, posted.seq, emoji)),
      );
      const statuses = outcomes.map((outcome) => outcome.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(20);
      expect(statuses.filter((status) => status === 409)).toHaveLength(5);
      const reactions = (await listedSeq(server, alice, room, posted.seq)).reactions;
      expect(reactions).toHaveLength(20);
      expect(reactions.map((reaction) => reaction.emoji).sort()).toEqual(
        many.filter((_, index) => statuses[index] === 200).sort(),
      );
    });

    it('edits racing a delete: each edit is 200 or 409, and the message ends a tombstone', async ({
      server,
      users: { alice },
      room,
    }) => {
      const api = apiOf(server);
      const posted = answered(await api.post(alice, room, 'racing'));
      const edits = range(10).map((index) => api.edit(alice, room, posted.seq, `racing ${index}`));
      const removal = api.remove(alice, room, posted.seq);
      const more = range(10).map((index) => api.react(alice, room, posted.seq, TWENTY[index] ?? '👍'));
      const outcomes = await Promise.all([...edits, ...more]);
      for (const outcome of outcomes) expect([200, 409]).toContain(outcome.status);
      const tombstone = answered(await removal);
      expect(tombstone).toMatchObject({ text: '', reactions: [] });
      expect(await listed(server, alice, room)).toEqual([tombstone]);
    });
  });

  describe('replies', () => {
    it('a reply carries a quote {seq, author, text excerpt of at most 200 characters, deleted:false}', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const long = `${'a'.repeat(190)}0123456789${'z'.repeat(100)}`;
      const original = answered(await api.post(alice, room, long));
      const reply = answered(await api.post(bob, room, 'quoting you', original.seq));
      expect(Object.keys(reply)).toEqual(MESSAGE_KEYS);
      expect(reply).toMatchObject({ author: bob.username, text: 'quoting you', editedAt: null, deletedAt: null });
      expect(reply.replyTo).toEqual({
        seq: original.seq,
        author: alice.username,
        text: long.slice(0, 200),
        deleted: false,
      });
      expect(Object.keys(reply.replyTo ?? {})).toEqual(['seq', 'author', 'text', 'deleted']);

      // Short texts are quoted whole; an emoji on the 200th character is not cut in half.
      const short = answered(await api.post(alice, room, 'short'));
      expect(answered(await api.post(bob, room, 're', short.seq)).replyTo?.text).toBe('short');
      const astral = answered(await api.post(alice, room, `${'x'.repeat(199)}😀 and more`));
      const quoted = answered(await api.post(bob, room, 're', astral.seq)).replyTo?.text ?? '';
      expect(quoted.length).toBeLessThanOrEqual(200);
      expect(quoted.startsWith('x'.repeat(199))).toBe(true);
      expect(quoted).not.toMatch(/[\uD800-\uDBFF]$/);

      const list = await listed(server, alice, room);
      expect(list.find((message) => message.seq === reply.seq)).toEqual(reply);
      expect(list.find((message) => message.seq === original.seq)?.replyTo).toBeNull();
    });

    it('replyTo an unknown seq (or one only in another room) is 404, a deleted one 409, a bad one 400', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const first = answered(await api.post(alice, room, 'first'));
      refused(await api.post(bob, room, 'to nothing', first.seq + 1), 404);
      refused(await api.post(bob, room, 'to nothing', 0), 404);
      const elsewhere = uniqueName('other');
      await joinRoom(server.baseUrl, alice.token, elsewhere);
      for (let n = 0; n < 3; n += 1) answered(await api.post(alice, elsewhere, `elsewhere ${n}`));
      refused(await api.post(alice, room, 'cross-room', 3), 404);
      refused(await api.post(bob, room, 'bad', -1), 400, 'replyTo');

      answered(await api.remove(alice, room, first.seq));
      refused(await api.post(bob, room, 'to a tombstone', first.seq), 409);
      expect((await listed(server, alice, room)).map((message) => message.seq)).toEqual([first.seq]);
    });

    it('the quote follows the original\'s edit, and after its deletion shows deleted:true with text ""', async ({
      server,
      users: { alice, bob },
      room,
    }) => {
      const api = apiOf(server);
      const original = answered(await api.post(alice, room, 'typo hre'));
      const reply = answered(await api.post(bob, room, 'you have a typo', original.seq));
      const secondReply = answered(await api.post(alice, room, 'indeed', original.seq));

      answered(await api.edit(alice, room, original.seq, 'typo here'));
      const afterEdit = await listed(server, bob, room);
      expect(afterEdit.find((message) => message.seq === reply.seq)).toEqual({
        ...reply,
        replyTo: { seq: original.seq, author: alice.username, text: 'typo here', deleted: false },
      });
      expect(afterEdit.find((message) => message.seq === secondReply.seq)?.replyTo?.text).toBe('typo here');

      answered(await api.remove(alice, room, original.seq));
      const afterDelete = await listed(server, bob, room);
      expect(afterDelete.find((message) => message.seq === reply.seq)).toEqual({
        ...reply,
        replyTo: { seq: original.seq, author: alice.username, text: '', deleted: true },
      });
      expect(afterDelete.find((message) => message.seq === secondReply.seq)?.replyTo).toEqual({
        seq: original.seq,
        author: alice.username,
        text: '',
        deleted: true,
      });
      // The reply itself is untouched: not edited, still reactable and editable.
      const edited = answered(await api.edit(bob, room, reply.seq, 'never mind'));
      expect(edited.replyTo).toEqual({ seq: original.seq, author: alice.username, text: '', deleted: true });
    });
  });

  describe('statistics', () => {
    type RoomCount = { room: string; messageCount: number };
    type UserCount = { username: string; messageCount: number };
    type UserStats = { username: string; messageCount: number; rooms: RoomCount[] };

    /** Every message count the API has for `room` and its members, over REST and tRPC (which must agree). */
    async function counts(server: TestServer, reader: TestUser, room: string, users: TestUser[]) {
      const get = async <T>(path: string) => ok(await rest<T>(server.baseUrl, 'GET', path, { token: reader.token }));
      const summaries = await get<{ rooms: RoomSummary[] }>('/rooms?limit=200');
      const statsRooms = await get<{ rooms: RoomCount[] }>('/stats/rooms?limit=200');
      const statsUsers = await get<{ users: UserCount[] }>('/stats/users?limit=200');
      const inRoom = await get<{ users: UserCount[] }>(`/stats/users?room=${room}`);
      const members = await get<{ users: Member[] }>(`/rooms/${room}/users`);
      expect(await reader.trpc.stats.users.query({ room })).toEqual(inRoom);
      expect(await reader.trpc.rooms.members.query({ room })).toEqual(members);
      const perUser: Record<string, unknown> = {};
      for (const user of users) {
        const one = await get<UserStats>(`/stats/users/${user.username}`);
        expect(await reader.trpc.stats.user.query({ username: user.username })).toEqual(one);
        perUser[user.username] = {
          overall: one.messageCount,
          here: one.rooms.find((entry) => entry.room === room)?.messageCount,
          statsUsers: statsUsers.users.find((entry) => entry.username === user.username)?.messageCount,
          inRoom: inRoom.users.find((entry) => entry.username === user.username)?.messageCount,
          member: members.users.find((member) => member.username === user.username)?.messageCount,
        };
      }
      const summary = summaries.rooms.find((entry) => entry.name === room);
      return {
        room: summary?.messageCount,
        lastSeq: summary?.lastSeq,
        statsRoom: statsRooms.rooms.find((entry) => entry.room === room)?.messageCount,
        perUser,
      };
    }

    const each = (value: number) => ({ overall: value, here: value, statsUsers: value, inRoom: value, member: value });

    it('a deleted message stops counting everywhere; edits and reactions count nowhere', async ({
      server,
      users: { owner },
      room,
    }) => {
      const api = apiOf(server);
      // Fresh authors, so their overall counts are this room's alone.
      const [carol, dave] = await Promise.all([
        newUser(server.baseUrl, uniqueName('carol')),
        newUser(server.baseUrl, uniqueName('dave')),
      ]);
      if (!carol || !dave) throw new Error('sign-up failed');
      await joinRoom(server.baseUrl, carol.token, room);
      await joinRoom(server.baseUrl, dave.token, room);
      const posts = [];
      for (let n = 0; n < 3; n += 1) posts.push(answered(await api.post(carol, room, `carol ${n}`)));
      for (let n = 0; n < 2; n += 1) posts.push(answered(await api.post(dave, room, `dave ${n}`)));
      const start = await counts(server, owner, room, [carol, dave]);
      expect(start).toEqual({
        room: 5,
        lastSeq: 5,
        statsRoom: 5,
        perUser: { [carol.username]: each(3), [dave.username]: each(2) },
      });

      const [c0, c1, c2, d0] = posts as [MessageDto, MessageDto, MessageDto, MessageDto];
      answered(await api.edit(carol, room, c0.seq, 'carol 0, edited'));
      answered(await api.edit(carol, room, c0.seq, 'carol 0, edited twice'));
      answered(await api.react(dave, room, c0.seq, '👍'));
      answered(await api.react(carol, room, c0.seq, '🎉'));
      answered(await api.unreact(carol, room, c0.seq, '🎉'));
      answered(await api.post(carol, room, 'a reply', c1.seq));
      expect(await counts(server, owner, room, [carol, dave])).toEqual({
        room: 6,
        lastSeq: 6,
        statsRoom: 6,
        perUser: { [carol.username]: each(4), [dave.username]: each(2) },
      });

      // The author deletes one, the room's creator another (moderation), and a delete is repeated.
      answered(await api.remove(carol, room, c2.seq));
      answered(await api.remove(owner, room, d0.seq));
      answered(await api.remove(dave, room, d0.seq));
      answered(await api.remove(carol, room, c2.seq));
      expect(await counts(server, owner, room, [carol, dave])).toEqual({
        room: 4,
        // Seqs are not reused: the room's newest seq stays.
        lastSeq: 6,
        statsRoom: 4,
        perUser: { [carol.username]: each(3), [dave.username]: each(1) },
      });
      // Every count still equals the messages listed that are not deleted.
      const live = (await listed(server, owner, room)).filter((message) => message.deletedAt === null);
      expect(live).toHaveLength(4);

      // The next post takes the next seq.
      expect(answered(await api.post(dave, room, 'after')).seq).toBe(7);
      expect((await counts(server, owner, room, [carol, dave])).perUser[dave.username]).toEqual(each(2));
    });
  });

  describe('validation of the path and body', () => {
    it('400 naming "seq" for a seq that is not a whole number; 400 naming "text" without text', async ({
      server,
      users: { alice },
      room,
    }) => {
      const posted = answered(await apiOf(server).post(alice, room, 'x'));
      if (via === 'REST') {
        for (const seq of ['abc', '1.5', '-1']) {
          expectRestError(
            await rest(server.baseUrl, 'PATCH', restPaths.message(room, seq), {
              token: alice.token,
              body: { text: 'y' },
            }),
            400,
            'seq',
          );
          expectRestError(
            await rest(server.baseUrl, 'DELETE', restPaths.message(room, seq), { token: alice.token }),
            400,
            'seq',
          );
          expectRestError(
            await rest(server.baseUrl, 'PUT', restPaths.reaction(room, seq, '👍'), { token: alice.token }),
            400,
            'seq',
          );
        }
        expectRestError(
          await rest(server.baseUrl, 'PATCH', restPaths.message(room, posted.seq), { token: alice.token, body: {} }),
          400,
          'text',
        );
      } else {
        await expectTrpcError(alice.trpc.messages.edit.mutate({ room, seq: -1, text: 'y' }), 400, 'seq');
        await expectTrpcError(alice.trpc.messages.delete.mutate({ room, seq: 1.5 }), 400, 'seq');
        await expectTrpcError(
          alice.trpc.messages.edit.mutate({ room, seq: posted.seq } as unknown as {
            room: string;
            seq: number;
            text: string;
          }),
          400,
          'text',
        );
      }
      expect(await listed(server, alice, room)).toEqual([posted]);
    });
  });
});

describe('rate limit (RATE_LIMITS=on)', () => {
  // The default configuration (RATE_LIMITS=on), on a server of its own: the shared one runs without limits.
  limited(
    'edits and reactions draw on the post budget: after a burst of them, posting is 429 too',
    async ({ limitedServer: server }) => {
      const [busy, calm] = await Promise.all([
        newUser(server.baseUrl, uniqueName('busy')),
        newUser(server.baseUrl, uniqueName('calm')),
      ]);
      if (!busy || !calm) throw new Error('sign-up failed');
      const room = uniqueName('limits');
      await joinRoom(server.baseUrl, busy.token, room);
      await joinRoom(server.baseUrl, calm.token, room);
      const rest_ = messageApi('REST', server.baseUrl);
      const trpc = messageApi('tRPC', server.baseUrl);
      const posted = answered(await rest_.post(busy, room, 'the one post'));

      // 40 changes at once, over both transports: edits, reactions and unreactions.
      const started = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, index) => {
          const api = index % 2 === 0 ? rest_ : trpc;
          switch (index % 4) {
            case 0:
              return api.edit(busy, room, posted.seq, `edit ${index}`);
            case 1:
              return api.react(busy, room, posted.seq, TWENTY[index % 20] ?? '👍');
            case 2:
              return api.unreact(busy, room, posted.seq, TWENTY[(index + 7) % 20] ?? '👍');
            default:
              return api.edit(busy, room, posted.seq, `edit ${index}`);
          }
        }),
      );
      const elapsedSeconds = (Date.now() - started) / 1000;
      const statuses = outcomes.map((outcome) => outcome.status);
      const passed = statuses.filter((status) => status === 200).length;
      const limitedCount = statuses.filter((status) => status === 429).length;
      expect(passed + limitedCount, JSON.stringify(statuses)).toBe(40);
      // The burst is 30, one of them spent on the post; plus at most the refill while this ran.
      expect(passed).toBeGreaterThanOrEqual(29);
      expect(passed).toBeLessThanOrEqual(29 + Math.ceil(elapsedSeconds));
      for (const outcome of outcomes) {
        if (outcome.status === 429 && outcome.response) {
          expectRestError(outcome.response, 429);
          expect(Number(outcome.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        }
      }

      // The budget is shared with posting: both transports refuse a post now (one refill may let one through).
      const postNow = [await rest_.post(busy, room, 'too soon'), await trpc.post(busy, room, 'too soon')];
      expect(postNow.filter((outcome) => outcome.status === 429).length).toBeGreaterThanOrEqual(1);

      // Another user is not slowed down.
      const theirs = answered(await rest_.post(calm, room, 'calm'));
      answered(await trpc.react(calm, room, theirs.seq, '👍'));
      answered(await rest_.edit(calm, room, theirs.seq, 'calm, edited'));
    },
  );
});
