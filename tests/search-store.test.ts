import { describe, expect } from 'vitest';
import type { RoomRow, SearchRequest, SessionUser, Store } from '../server/store/store.ts';
import { searchSnippet, searchWords } from '../shared/search-text.ts';
import { describeEachBackend, storeTest as test } from './support/stores.ts';

/**
 * MessageStore.search on both backends, with the same expectations: FTS5 and tsvector must find the
 * same messages and give the same snippets. The API contract (REST, tRPC, 400/404) is in
 * search.test.ts.
 */

const NOW = new Date('2025-03-04T05:06:07.891Z');

async function user(store: Store, username: string): Promise<SessionUser> {
  const row = await store.users.insert(username, `hash of ${username}`);
  if (!row) throw new Error(`${username} taken`);
  return { id: row.id, username: row.username };
}

async function post(store: Store, room: RoomRow, author: SessionUser, text: string) {
  const result = await store.messages.insertOne({ room, author, text, clientId: null, now: NOW });
  if (result.kind !== 'inserted') throw new Error(`not inserted: ${result.kind}`);
  return result.message;
}

/** A room with alice and these texts in order; search() answers the texts found, newest first. */
async function seeded(store: Store, texts: readonly string[]) {
  const alice = await user(store, 'alice');
  const { room } = await store.rooms.join(alice.id, 'general', NOW);
  const posted = [];
  for (const text of texts) posted.push(await post(store, room, alice, text));
  const search = async (query: string, extra: Partial<SearchRequest> = {}) =>
    (await store.messages.search({ query, userId: alice.id, limit: 50, ...extra })).results;
  const texts_ = async (query: string) => (await search(query)).map((result) => result.message.text);
  return { alice, room, posted, search, texts: texts_ };
}

describe('search words and snippets', () => {
  test('a query is only words: every other character separates them', () => {
    expect(searchWords('"hello" NEAR(world*) -x OR y: (z)')).toEqual(['hello', 'NEAR', 'world', 'x', 'OR', 'y', 'z']);
    expect(searchWords('***')).toEqual([]);
    expect(searchWords('café Café CAFE 東京 ελληνικά')).toEqual(['café', '東京', 'ελληνικά']);
  });

  test('the snippet escapes everything and marks the whole words searched for', () => {
    expect(searchSnippet('<b>Hello</b> "world" & hello-world worlds', ['hello', 'world'])).toBe(
      '&lt;b&gt;<mark>Hello</mark>&lt;/b&gt; &quot;<mark>world</mark>&quot; &amp; <mark>hello</mark>-<mark>world</mark> worlds',
    );
    expect(searchSnippet('Crème brûlée', ['creme', 'brulee'])).toBe('<mark>Crème</mark> <mark>brûlée</mark>');
  });

  test('a long text is cut around its first match, at word boundaries', () => {
    const text = `${'lorem ipsum '.repeat(30)}needle ${'dolor sit '.repeat(30)}`;
    const snippet = searchSnippet(text, ['needle']);
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet).toContain('<mark>needle</mark>');
    expect(snippet.replace(/<\/?mark>/g, '').length).toBeLessThanOrEqual(202);
    expect(snippet).toMatch(/^…(lorem|ipsum) /);
    expect(snippet).toMatch(/ (dolor|sit)…$/);
  });
});

describeEachBackend('MessageStore.search', () => {
  test('finds every word, as whole words, with case and accents folded', async ({ store }) => {
    const { texts } = await seeded(store, [
      'Café crème à Zürich',
      'the cafeteria is closed',
      'hello world',
      'hello there, wide world',
      'visit example.com or mail a.b@c.de',
      '東京 タワー',
      'Καλημέρα κόσμε',
      'party 🎉 time',
    ]);
    expect(await texts('cafe')).toEqual(['Café crème à Zürich']);
    expect(await texts('CAFÉ zurich')).toEqual(['Café crème à Zürich']);
    expect(await texts('world hello')).toEqual(['hello there, wide world', 'hello world']);
    expect(await texts('hello wor')).toEqual([]);
    expect(await texts('cafeteria')).toEqual(['the cafeteria is closed']);
    expect(await texts('example')).toEqual(['visit example.com or mail a.b@c.de']);
    expect(await texts('com')).toEqual(['visit example.com or mail a.b@c.de']);
    expect(await texts('東京')).toEqual(['東京 タワー']);
    // Case folds in every script; accents fold for Latin letters on both backends (FTS5's
    // remove_diacritics knows Latin only, so Greek is matched with its accents).
    expect(await texts('ΚΑΛΗΜΈΡΑ')).toEqual(['Καλημέρα κόσμε']);
    expect(await texts('🎉 party')).toEqual(['party 🎉 time']);
    expect(await texts('🎉')).toEqual([]);
  });

  test('search syntax in the query is taken as plain words', async ({ store }) => {
    const { texts } = await seeded(store, ['alpha tag beta', 'gamma tag-delta', 'near the tag or not', 'text: alpha']);
    const all = ['near the tag or not', 'gamma tag-delta', 'alpha tag beta'];
    expect(await texts('"tag')).toEqual(all);
    expect(await texts('tag"')).toEqual(all);
    expect(await texts('tag*')).toEqual(all);
    expect(await texts('ta*')).toEqual([]);
    expect(await texts('-alpha tag')).toEqual(['alpha tag beta']);
    expect(await texts('tag -delta')).toEqual(['gamma tag-delta']);
    expect(await texts('tag OR gamma')).toEqual([]);
    expect(await texts('tag or not')).toEqual(['near the tag or not']);
    expect(await texts('NEAR(tag alpha)')).toEqual([]);
    expect(await texts('near tag')).toEqual(['near the tag or not']);
    expect(await texts('text:alpha')).toEqual(['text: alpha']);
    expect(await texts('(alpha')).toEqual(['text: alpha', 'alpha tag beta']);
    expect(await texts('tag & !alpha')).toEqual(['alpha tag beta']);
    expect(await texts('tag | gamma')).toEqual(['gamma tag-delta']);
    expect(await texts("tag <-> 'delta'")).toEqual(['gamma tag-delta']);
    expect(await texts('^tag + {alpha}')).toEqual(['alpha tag beta']);
    expect(await texts('AND')).toEqual([]);
    expect(await texts('***')).toEqual([]);
  });

  test('newest first, paged by message id', async ({ store }) => {
    const { alice, posted } = await seeded(
      store,
      Array.from({ length: 7 }, (_, index) => (index === 3 ? 'other' : `match ${index}`)),
    );
    const expected = posted.filter((message) => message.text !== 'other').map((message) => message.id);
    expected.reverse();
    const pages: number[][] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await store.messages.search({ query: 'match', userId: alice.id, limit: 4, beforeId });
      pages.push(page.results.map((result) => result.message.id));
      beforeId = page.results.at(-1)?.message.id;
      if (!page.hasMore) break;
    }
    expect(pages).toEqual([expected.slice(0, 4), expected.slice(4)]);
  });

  test('finds old messages as well as recent ones, and pages across them', async ({ store }) => {
    // More than PostgreSQL's first pass reads (RECENT_WINDOW), with a rare word on both sides of it.
    const texts = Array.from({ length: 700 }, (_, index) =>
      [3, 250, 650].includes(index) ? `filler needle ${index}` : `filler ${index}`,
    );
    const alice = await user(store, 'alice');
    const { room } = await store.rooms.join(alice.id, 'general', NOW);
    const posted = await store.messages.insertBatch(
      texts.map((text) => ({ room, author: alice, text, clientId: null, now: NOW })),
    );
    const ids = posted.map((result) => (result.kind === 'inserted' ? result.message.id : 0)).reverse();
    const needle = await store.messages.search({ query: 'needle', userId: alice.id, limit: 2 });
    expect(needle.results.map((result) => result.message.text)).toEqual(['filler needle 650', 'filler needle 250']);
    expect(needle.hasMore).toBe(true);
    const rest = await store.messages.search({ query: 'NEEDLE', userId: alice.id, limit: 2, beforeId: ids[449] });
    expect(rest).toMatchObject({ results: [{ message: { text: 'filler needle 3' } }], hasMore: false });
    const pages: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await store.messages.search({
        query: 'filler',
        userId: alice.id,
        limit: 50,
        roomId: room.id,
        beforeId,
      });
      pages.push(...page.results.map((result) => result.message.id));
      beforeId = page.results.at(-1)?.message.id;
      if (!page.hasMore) break;
    }
    expect(pages).toEqual(ids);
  });

  test("only the user's rooms, unless a room is named", async ({ store }) => {
    const { alice, room, search } = await seeded(store, ['shared secret']);
    const bob = await user(store, 'bob');
    const other = (await store.rooms.join(bob.id, 'other', NOW)).room;
    await post(store, other, bob, 'their secret');
    expect((await search('secret')).map((result) => result.message.room)).toEqual(['general']);
    expect((await search('secret', { roomId: other.id })).map((result) => result.message.text)).toEqual([
      'their secret',
    ]);
    expect((await search('secret', { roomId: room.id })).map((result) => result.message.text)).toEqual([
      'shared secret',
    ]);
    await store.rooms.join(alice.id, 'other', NOW);
    expect((await search('secret')).map((result) => result.message.text)).toEqual(['their secret', 'shared secret']);
  });

  test('deleted messages are never found; edited ones by their new text only', async ({ store }) => {
    const { room, search, texts } = await seeded(store, ['first draft', 'doomed words']);
    await store.messages.edit(room, 1, 'second version', NOW);
    await store.messages.delete(room, 2, NOW);
    expect(await texts('draft')).toEqual([]);
    expect(await texts('second')).toEqual(['second version']);
    expect(await texts('doomed')).toEqual([]);
    const [found] = await search('version');
    expect(found?.message).toMatchObject({ seq: 1, text: 'second version', editedAt: NOW.toISOString() });
    expect(found?.snippet).toBe('second <mark>version</mark>');
  });

  test('results carry full messages and the same escaped snippet', async ({ store }) => {
    const { alice, room, search } = await seeded(store, ['<script>alert("hi & bye")</script> scripted']);
    await store.messages.react(room, 1, alice.id, '👍');
    const [found] = await search('script');
    expect(found?.snippet).toBe(
      '&lt;<mark>script</mark>&gt;alert(&quot;hi &amp; bye&quot;)&lt;/<mark>script</mark>&gt; scripted',
    );
    expect(found?.message).toMatchObject({
      room: 'general',
      seq: 1,
      author: 'alice',
      reactions: [{ emoji: '👍', count: 1, usernames: ['alice'] }],
      replyTo: null,
      mentions: [],
    });
  });
});
