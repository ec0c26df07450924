import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.ts';
import {
  expectRestError,
  expectTrpcError,
  joinRoom,
  type MessageDto,
  newUser,
  ok,
  postMany,
  type TestUser,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * messages.search / GET /api/search (issue 13) over REST and tRPC, on the backend of the vitest
 * project. Every test posts its own words (a random tag) in its own rooms, so the tests share one
 * server without finding each other's messages. Matching rules in depth: search-store.test.ts.
 */

type SearchAnswer = { results: { message: MessageDto; snippet: string }[]; hasMore: boolean };

/** A word no other test uses: letters only, so it is one search word. */
const tag = () => `w${[...randomBytes(6)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;

describe('search', () => {
  let server: TestServer;
  let baseUrl: string;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    alice = await newUser(baseUrl);
    bob = await newUser(baseUrl);
  });
  afterAll(() => server.close());

  const searchRest = (user: TestUser, params: Record<string, string | number>) =>
    rest<SearchAnswer>(
      baseUrl,
      'GET',
      `/search?${new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)]))}`,
      { token: user.token },
    );

  /** A room of its own with alice in it and these texts posted by her, in order. */
  async function roomWith(texts: readonly string[], user = alice) {
    const room = `s-${tag()}`;
    await joinRoom(baseUrl, user.token, room);
    const posted = await postMany(baseUrl, user.token, room, texts.length, (index) => texts[index] ?? '');
    return { room, posted };
  }

  it('REST and tRPC: newest first, paged with before while hasMore', async () => {
    const word = tag();
    const { posted } = await roomWith(Array.from({ length: 5 }, (_, index) => `${word} number ${index}`));
    const newestFirst = posted.map((message) => message.id).reverse();

    const first = ok(await searchRest(alice, { q: word, limit: 2 }));
    expect(first.hasMore).toBe(true);
    expect(first.results.map((result) => result.message.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.results[0]?.message).toEqual(posted[4]);
    expect(first.results[0]?.snippet).toBe(`<mark>${word}</mark> number 4`);
    const second = ok(await searchRest(alice, { q: word, limit: 2, before: newestFirst[1] ?? 0 }));
    expect(second.results.map((result) => result.message.id)).toEqual(newestFirst.slice(2, 4));
    expect(second.hasMore).toBe(true);
    const last = ok(await searchRest(alice, { q: word, limit: 2, before: newestFirst[3] ?? 0 }));
    expect(last.results.map((result) => result.message.id)).toEqual(newestFirst.slice(4));
    expect(last.hasMore).toBe(false);

    const viaTrpc = await alice.trpc.messages.search.query({ q: word, limit: 2 });
    expect(viaTrpc).toEqual(first);
    const all = await alice.trpc.messages.search.query({ q: `${word} NUMBER` });
    expect(all.results.map((result) => result.message.id)).toEqual(newestFirst);
    expect(all.hasMore).toBe(false);
  });

  it('takes quotes, *, NEAR, -, OR, ( and : as plain words, never as search syntax', async () => {
    const word = tag();
    const { room } = await roomWith([
      `alpha ${word} beta`,
      `gamma ${word}-delta`,
      `near the ${word} or not`,
      `text: alpha ${word}`,
    ]);
    const texts = async (q: string) => {
      const answer = ok(await searchRest(alice, { q, room }));
      const viaTrpc = await alice.trpc.messages.search.query({ q, room });
      expect(viaTrpc).toEqual(answer);
      return answer.results.map((result) => result.message.text);
    };
    const all = [`text: alpha ${word}`, `near the ${word} or not`, `gamma ${word}-delta`, `alpha ${word} beta`];
    expect(await texts(`"${word}`)).toEqual(all);
    expect(await texts(`${word}"`)).toEqual(all);
    expect(await texts(`"${word}" "`)).toEqual(all);
    expect(await texts(`${word}*`)).toEqual(all);
    expect(await texts(`${word.slice(0, 4)}*`)).toEqual([]);
    expect(await texts(`${word} NEAR alpha`)).toEqual([]);
    expect(await texts(`NEAR(${word} alpha)`)).toEqual([]);
    expect(await texts(`near ${word}`)).toEqual([`near the ${word} or not`]);
    expect(await texts(`${word} -alpha`)).toEqual([`text: alpha ${word}`, `alpha ${word} beta`]);
    expect(await texts(`-delta ${word}`)).toEqual([`gamma ${word}-delta`]);
    expect(await texts(`${word} OR gamma`)).toEqual([]);
    expect(await texts(`${word} or not`)).toEqual([`near the ${word} or not`]);
    expect(await texts(`(${word} beta)`)).toEqual([`alpha ${word} beta`]);
    expect(await texts(`text:alpha ${word}`)).toEqual([`text: alpha ${word}`]);
    expect(await texts(`${word}:*`)).toEqual(all);
    expect(await texts(`${word} & !alpha | gamma`)).toEqual([]);
    expect(await texts(`'${word}' <-> delta`)).toEqual([`gamma ${word}-delta`]);
  });

  it('finds words in any script, with case and accents folded', async () => {
    const word = tag();
    const { room } = await roomWith([`Café crème à Zürich ${word}`, `東京 ${word}`, `Ελληνικά ${word}`, `🎉 ${word}`]);
    const texts = async (q: string) =>
      ok(await searchRest(alice, { q, room })).results.map((result) => result.message.text);
    expect(await texts('cafe ZURICH')).toEqual([`Café crème à Zürich ${word}`]);
    expect(await texts('crème')).toEqual([`Café crème à Zürich ${word}`]);
    expect(await texts('東京')).toEqual([`東京 ${word}`]);
    expect(await texts('ελληνικά')).toEqual([`Ελληνικά ${word}`]);
    expect(await texts(`🎉 ${word}`)).toHaveLength(4);
    const [cafe] = ok(await searchRest(alice, { q: 'CAFE', room })).results;
    expect(cafe?.snippet).toBe(`<mark>Café</mark> crème à Zürich ${word}`);
  });

  it("searches the user's rooms only, unless a room is named (any room); an unknown room is 404", async () => {
    const word = tag();
    const mine = await roomWith([`mine ${word}`]);
    const theirs = await roomWith([`theirs ${word}`], bob);
    const found = (answer: SearchAnswer) => answer.results.map((result) => result.message.text);
    expect(found(ok(await searchRest(alice, { q: word })))).toEqual([`mine ${word}`]);
    expect(found(ok(await searchRest(bob, { q: word })))).toEqual([`theirs ${word}`]);
    expect(found(ok(await searchRest(alice, { q: word, room: theirs.room })))).toEqual([`theirs ${word}`]);
    expect(found(await alice.trpc.messages.search.query({ q: word, room: theirs.room.toUpperCase() }))).toEqual([
      `theirs ${word}`,
    ]);
    expect(found(ok(await searchRest(bob, { q: word, room: mine.room })))).toEqual([`mine ${word}`]);
    await joinRoom(baseUrl, alice.token, theirs.room);
    expect(found(ok(await searchRest(alice, { q: word })))).toEqual([`theirs ${word}`, `mine ${word}`]);

    expectRestError(await searchRest(alice, { q: word, room: `no-${tag()}` }), 404);
    await expectTrpcError(alice.trpc.messages.search.query({ q: word, room: `no-${tag()}` }), 404);
  });

  it('never finds deleted messages, and edited ones by their new text only', async () => {
    const word = tag();
    const { room, posted } = await roomWith([`${word} first draft`, `${word} doomed`]);
    ok(
      await rest(baseUrl, 'PATCH', `/rooms/${room}/messages/${posted[0]?.seq}`, {
        token: alice.token,
        body: { text: `${word} final version` },
      }),
    );
    ok(await rest(baseUrl, 'DELETE', `/rooms/${room}/messages/${posted[1]?.seq}`, { token: alice.token }));
    const texts = async (q: string) => ok(await searchRest(alice, { q })).results.map((result) => result.message.text);
    expect(await texts(`${word} draft`)).toEqual([]);
    expect(await texts(`${word} doomed`)).toEqual([]);
    expect(await texts(`${word} version`)).toEqual([`${word} final version`]);
    expect(await texts(word)).toEqual([`${word} final version`]);
  });

  it('escapes the snippet: <mark> around the matches is the only markup', async () => {
    const word = tag();
    const { room } = await roomWith([
      `<script>alert("${word}" & 'x')</script> <mark>fake</mark> <img src=x onerror=${word}>`,
    ]);
    const [found] = ok(await searchRest(alice, { q: `script ${word}`, room })).results;
    expect(found?.snippet).toBe(
      `&lt;<mark>script</mark>&gt;alert(&quot;<mark>${word}</mark>&quot; &amp; &#39;x&#39;)&lt;/<mark>script</mark>&gt; ` +
        `&lt;mark&gt;fake&lt;/mark&gt; &lt;img src=x onerror=<mark>${word}</mark>&gt;`,
    );
    expect(found?.snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>"']/);
  });

  it('cuts a long message around the first match', async () => {
    const word = tag();
    const text = `${'lorem ipsum '.repeat(100)}${word} ${'dolor sit '.repeat(100)}`.trim();
    const { room } = await roomWith([text]);
    const [found] = (await alice.trpc.messages.search.query({ q: word, room })).results;
    expect(found?.message.text).toBe(text);
    expect(found?.snippet).toMatch(new RegExp(`^…[a-z ]+ <mark>${word}</mark> [a-z ]+…$`));
    expect(found?.snippet.length).toBeLessThan(230);
  });

  it('refuses a query without words, too long, a bad limit or cursor, and anonymous callers', async () => {
    for (const q of ['', '***', ' - ', '"', '🎉']) {
      expectRestError(await searchRest(alice, { q }), 400, 'q');
      await expectTrpcError(alice.trpc.messages.search.query({ q }), 400, 'q');
    }
    expectRestError(await searchRest(alice, { q: 'a'.repeat(201) }), 400, 'q');
    expectRestError(await searchRest(alice, { q: 'hello', limit: 51 }), 400, 'limit');
    expectRestError(await searchRest(alice, { q: 'hello', limit: 0 }), 400, 'limit');
    expectRestError(await searchRest(alice, { q: 'hello', before: -1 }), 400, 'before');
    expect(ok(await searchRest(alice, { q: 'a'.repeat(200), limit: 50 })).results).toEqual([]);
    expect((await rest(baseUrl, 'GET', '/search?q=hello')).status).toBe(401);
  });
});

describe('search rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers 429 with Retry-After to a user searching too fast, and not to another user', async () => {
    const [carol, dave] = [await newUser(server.baseUrl), await newUser(server.baseUrl)];
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let attempt = 0; attempt < 40 && !statuses.includes(429); attempt += 1) {
      const response = await rest(server.baseUrl, 'GET', '/search?q=anything', { token: carol.token });
      statuses.push(response.status);
      retryAfter = response.headers.get('retry-after');
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, 30).every((status) => status === 200)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await rest(server.baseUrl, 'GET', '/search?q=anything', { token: dave.token })).status).toBe(200);
  });
});
