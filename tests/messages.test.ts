import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../server/routers/app-router.ts';
import { rest, trpcClient } from './support/clients.ts';
import {
  allMessages,
  expectRestError,
  expectTrpcError,
  isoDate,
  joinRoom,
  type Member,
  type MessageDto,
  type MessagePage,
  newUser,
  ok,
  postMany,
  type RestErrorBody,
  type RoomSummary,
  type TestUser,
  trpcFailure,
} from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type Posted = { message: MessageDto };

describe('messages', () => {
  let server: TestServer;
  let baseUrl: string;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    baseUrl = server.baseUrl;
    alice = await newUser(baseUrl);
    bob = await newUser(baseUrl);
    await joinRoom(baseUrl, alice.token, 'lobby');
    await joinRoom(baseUrl, bob.token, 'lobby');
  });
  afterAll(() => server.close());

  // trpc-to-openapi coerces query strings by mutating the zod schemas of the procedure on its first REST
  // call, which can change how the same procedure validates tRPC input afterwards. This block must run
  // before any other REST call to messages.list in this file (tests in a file run in order, and each
  // test file has its own module graph).
  describe('tRPC validation does not change after REST calls (trpc-to-openapi schema mutation)', () => {
    const limits: unknown[] = ['2', 2, 0, '0', true, false, null, '', ' 3', '2.5', 2.5, '1e1', [], [3], {}, 101, '101'];
    const cursors: unknown[] = [null, true, '3', 0, -1, 'abc'];

    async function outcomes(client: TestUser['trpc']): Promise<string[]> {
      const results: string[] = [];
      const attempt = async (label: string, input: Record<string, unknown>) => {
        try {
          // Deliberately not the declared input type: this is what an untyped caller might send.
          const page = await client.messages.list.query({ room: 'pitfall', ...input } as never);
          results.push(`${label} -> ok ${page.messages.map((message) => message.seq).join(',')} ${page.hasMore}`);
        } catch (error) {
          const failure = await trpcFailure(Promise.reject(error));
          results.push(`${label} -> ${failure.status} ${failure.message}`);
        }
      };
      for (const limit of limits) await attempt(`limit=${JSON.stringify(limit)}`, { limit });
      for (const before of cursors) await attempt(`before=${JSON.stringify(before)}`, { before });
      for (const after of cursors) await attempt(`after=${JSON.stringify(after)}`, { after });
      return results;
    }

    it('behaves identically before and after REST calls, accepting "2" and rejecting 0 and 101', async () => {
      await joinRoom(baseUrl, alice.token, 'pitfall');
      await postMany(baseUrl, alice.token, 'pitfall', 5);

      const before = await outcomes(alice.trpc);
      // Whole-number strings are accepted on purpose (query strings carry strings), anything else is refused.
      expect(before).toContain('limit="2" -> ok 4,5 true');
      expect(before).toContain('limit=2 -> ok 4,5 true');
      expect(before).toContain('limit=0 -> 400 limit: must be at least 1');
      expect(before).toContain('limit=101 -> 400 limit: must be at most 100');
      expect(before).toContain('limit=true -> 400 limit: must be a whole number');
      expect(before).toContain('limit=null -> 400 limit: must be a whole number');
      expect(before).toContain('limit="" -> 400 limit: must be a whole number');
      expect(before).toContain('before=null -> 400 before: must be a whole number');
      expect(before).toContain('after="3" -> ok 4,5 false');

      for (const query of ['?limit=2', '?limit=2&before=4', '?after=1&limit=3', '?limit=0', '?before=x']) {
        const response = await rest(baseUrl, 'GET', `/rooms/pitfall/messages${query}`, { token: alice.token });
        expect(response.status).toBeLessThan(500);
      }
      expect(
        ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/pitfall/messages?limit=2', { token: alice.token })),
      ).toMatchObject({ hasMore: true, messages: [{ seq: 4 }, { seq: 5 }] });

      const after = await outcomes(alice.trpc);
      expect(after).toEqual(before);
    });

    it('a negative cursor gets the same message over REST and tRPC', async () => {
      const viaRest = await rest<RestErrorBody>(baseUrl, 'GET', '/rooms/pitfall/messages?before=-1', {
        token: alice.token,
      });
      expect(viaRest.status).toBe(400);
      // REST says "Input validation failed" and lists the problems by field.
      expect(viaRest.body.issues?.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
        'before: must be at least 0',
      ]);
      expect(await trpcFailure(alice.trpc.messages.list.query({ room: 'pitfall', before: -1 }))).toEqual({
        status: 400,
        message: 'before: must be at least 0',
      });
    });

    it('REST keeps rejecting limit=0 and 101 and accepting valid input after many REST and tRPC calls', async () => {
      for (let round = 0; round < 3; round += 1) {
        const zero = await rest(baseUrl, 'GET', '/rooms/pitfall/messages?limit=0', { token: alice.token });
        expectRestError(zero, 400, 'limit');
        const tooMany = await rest(baseUrl, 'GET', '/rooms/pitfall/messages?limit=101', { token: alice.token });
        expectRestError(tooMany, 400, 'limit');
        const page = ok(
          await rest<MessagePage>(baseUrl, 'GET', '/rooms/pitfall/messages?limit=1', { token: alice.token }),
        );
        expect(page.messages.map((message) => message.seq)).toEqual([5]);
        await expectTrpcError(alice.trpc.messages.list.query({ room: 'pitfall', limit: 0 }), 400, 'limit');
        expect((await alice.trpc.messages.list.query({ room: 'pitfall', limit: 1 })).messages).toHaveLength(1);
      }
    });
  });

  describe('post', () => {
    it('REST: stores the message as the session user and returns it', async () => {
      const body = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/lobby/messages', { token: alice.token, body: { text: 'hello' } }),
      );
      expect(body.message).toMatchObject({ room: 'lobby', author: alice.username, text: 'hello', clientId: null });
      expect(Number.isInteger(body.message.id)).toBe(true);
      expect(isoDate(body.message.createdAt)).toBe(true);

      const page = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/lobby/messages', { token: bob.token }));
      expect(page.messages.at(-1)).toEqual(body.message);
    });

    it('tRPC: stores the message as the session user and returns it, with the next seq', async () => {
      const first = await alice.trpc.messages.post.mutate({ room: 'lobby', text: 'one', clientId: 'trpc-post-1' });
      const second = await bob.trpc.messages.post.mutate({ room: 'lobby', text: 'two' });
      expect(first.message).toMatchObject({
        room: 'lobby',
        author: alice.username,
        text: 'one',
        clientId: 'trpc-post-1',
      });
      expect(second.message.author).toBe(bob.username);
      expect(second.message.seq).toBe(first.message.seq + 1);
      const page = await bob.trpc.messages.list.query({ room: 'lobby', limit: 2 });
      expect(page.messages).toEqual([first.message, second.message]);
    });

    it('accepts exactly 4000 characters after trimming surrounding whitespace', async () => {
      const text = `  ${'x'.repeat(4000)}\n `;
      const viaRest = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/lobby/messages', { token: alice.token, body: { text } }),
      );
      expect(viaRest.message.text).toBe('x'.repeat(4000));
      const viaTrpc = await alice.trpc.messages.post.mutate({ room: 'lobby', text: 'ü'.repeat(4000) });
      expect(viaTrpc.message.text).toHaveLength(4000);
    });

    it('the author cannot be spoofed with extra body fields on either transport', async () => {
      const viaRest = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/lobby/messages', {
          token: bob.token,
          body: { text: 'spoof?', author: alice.username, username: alice.username, authorId: 1, userId: 1 },
        }),
      );
      expect(viaRest.message.author).toBe(bob.username);

      const input = { room: 'lobby', text: 'spoof again?', author: alice.username, username: alice.username };
      const viaTrpc = await bob.trpc.messages.post.mutate(input as { room: string; text: string });
      expect(viaTrpc.message.author).toBe(bob.username);

      const page = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/lobby/messages?limit=2', { token: alice.token }));
      expect(page.messages.map((message) => message.author)).toEqual([bob.username, bob.username]);
    });

    it.each([
      ['blank', { text: '  \n\t ' }],
      ['too long', { text: 'x'.repeat(4001) }],
      ['missing', {}],
      ['a number', { text: 42 }],
    ])('400 naming "text" when the text is %s, on both transports', async (_label, body) => {
      const response = await rest(baseUrl, 'POST', '/rooms/lobby/messages', { token: alice.token, body });
      expectRestError(response, 400, 'text');
      await expectTrpcError(alice.trpc.messages.post.mutate({ room: 'lobby', ...body } as never), 400, 'text');
    });

    it('400 naming "clientId" for a malformed clientId', async () => {
      const body = { text: 'hi', clientId: 'not a valid id!' };
      expectRestError(
        await rest(baseUrl, 'POST', '/rooms/lobby/messages', { token: alice.token, body }),
        400,
        'clientId',
      );
      await expectTrpcError(alice.trpc.messages.post.mutate({ room: 'lobby', ...body }), 400, 'clientId');
    });

    it('403 when posting without joining, on both transports; nothing is stored', async () => {
      const outsider = await newUser(baseUrl);
      const before = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/lobby/messages?limit=1', { token: bob.token }));
      const response = await rest(baseUrl, 'POST', '/rooms/lobby/messages', {
        token: outsider.token,
        body: { text: 'let me in' },
      });
      expectRestError(response, 403);
      await expectTrpcError(outsider.trpc.messages.post.mutate({ room: 'lobby', text: 'let me in' }), 403);
      const after = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/lobby/messages?limit=1', { token: bob.token }));
      expect(after.messages).toEqual(before.messages);
    });

    it('404 when posting to an unknown room, on both transports', async () => {
      const response = await rest(baseUrl, 'POST', '/rooms/nowhere/messages', {
        token: alice.token,
        body: { text: 'x' },
      });
      expectRestError(response, 404);
      await expectTrpcError(alice.trpc.messages.post.mutate({ room: 'nowhere', text: 'x' }), 404);
    });

    it('401 without a session', async () => {
      expectRestError(await rest(baseUrl, 'POST', '/rooms/lobby/messages', { body: { text: 'x' } }), 401);
      await expectTrpcError(trpcClient(baseUrl).messages.post.mutate({ room: 'lobby', text: 'x' }), 401);
    });
  });

  describe('list', () => {
    const TOTAL = 120;
    let reader: TestUser;
    beforeAll(async () => {
      reader = await newUser(baseUrl);
      await joinRoom(baseUrl, alice.token, 'paged');
      await postMany(baseUrl, alice.token, 'paged', TOTAL, (index) => `paged ${index + 1}`);
    });

    const seqs = (page: MessagePage) => page.messages.map((message) => message.seq);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

    it('default page: the newest 50 in ascending seq, hasMore true (both transports)', async () => {
      const viaRest = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/paged/messages', { token: reader.token }));
      expect(seqs(viaRest)).toEqual(range(71, 120));
      expect(viaRest.hasMore).toBe(true);
      expect(viaRest.messages.every((message) => message.text === `paged ${message.seq}`)).toBe(true);
      expect(viaRest.messages.every((message) => message.room === 'paged')).toBe(true);
      expect(await reader.trpc.messages.list.query({ room: 'paged' })).toEqual(viaRest);
    });

    it('before= pages back until hasMore is false; the union is exactly seq 1..120', async () => {
      const collected: number[] = [];
      let before: number | undefined;
      let pages = 0;
      for (;;) {
        const query = before === undefined ? '' : `?before=${before}`;
        const page = ok(
          await rest<MessagePage>(baseUrl, 'GET', `/rooms/paged/messages${query}`, { token: reader.token }),
        );
        pages += 1;
        expect(seqs(page)).toEqual([...seqs(page)].sort((a, b) => a - b));
        collected.unshift(...seqs(page));
        const first = page.messages[0];
        if (!page.hasMore || first === undefined) break;
        before = first.seq;
      }
      expect(pages).toBe(3);
      expect(collected).toEqual(range(1, TOTAL));
    });

    it('before= over tRPC gives the same pages', async () => {
      const collected: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await reader.trpc.messages.list.query({ room: 'paged', limit: 37, before });
        collected.unshift(...seqs(page));
        const first = page.messages[0];
        if (!page.hasMore || first === undefined) break;
        before = first.seq;
      }
      expect(collected).toEqual(range(1, TOTAL));
    });

    it('after=0&limit=100 gives seq 1..100 with hasMore true; after=100 gives the rest with hasMore false', async () => {
      const first = ok(
        await rest<MessagePage>(baseUrl, 'GET', '/rooms/paged/messages?after=0&limit=100', { token: reader.token }),
      );
      expect(seqs(first)).toEqual(range(1, 100));
      expect(first.hasMore).toBe(true);
      const rest2 = await reader.trpc.messages.list.query({ room: 'paged', after: 100, limit: 100 });
      expect(seqs(rest2)).toEqual(range(101, 120));
      expect(rest2.hasMore).toBe(false);
    });

    it('after=lastSeq gives [] with hasMore false (both transports)', async () => {
      const viaRest = ok(
        await rest<MessagePage>(baseUrl, 'GET', `/rooms/paged/messages?after=${TOTAL}`, { token: reader.token }),
      );
      expect(viaRest).toEqual({ messages: [], hasMore: false });
      expect(await reader.trpc.messages.list.query({ room: 'paged', after: TOTAL })).toEqual(viaRest);
    });

    it('before=1 gives [] with hasMore false; before=2 gives only seq 1', async () => {
      expect(
        ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/paged/messages?before=1', { token: reader.token })),
      ).toEqual({ messages: [], hasMore: false });
      const page = await reader.trpc.messages.list.query({ room: 'paged', before: 2 });
      expect(seqs(page)).toEqual([1]);
      expect(page.hasMore).toBe(false);
    });

    it('limit=1 gives the newest message; limit=100 the newest 100', async () => {
      const one = ok(await rest<MessagePage>(baseUrl, 'GET', '/rooms/paged/messages?limit=1', { token: reader.token }));
      expect(seqs(one)).toEqual([TOTAL]);
      expect(one.hasMore).toBe(true);
      const hundred = await reader.trpc.messages.list.query({ room: 'paged', limit: 100 });
      expect(seqs(hundred)).toEqual(range(21, 120));
      expect(hundred.hasMore).toBe(true);
    });

    it('an empty room gives [] with hasMore false (both transports)', async () => {
      await joinRoom(baseUrl, reader.token, 'empty-room');
      const viaRest = ok(
        await rest<MessagePage>(baseUrl, 'GET', '/rooms/empty-room/messages', { token: reader.token }),
      );
      expect(viaRest).toEqual({ messages: [], hasMore: false });
      expect(await reader.trpc.messages.list.query({ room: 'empty-room', after: 0 })).toEqual(viaRest);
    });

    it('is readable by a signed-in user who is not a member', async () => {
      const outsider = await newUser(baseUrl);
      const page = ok(
        await rest<MessagePage>(baseUrl, 'GET', '/rooms/paged/messages?limit=3', { token: outsider.token }),
      );
      expect(seqs(page)).toEqual([118, 119, 120]);
    });

    it.each([
      ['limit=0', 'limit', { limit: 0 }],
      ['limit=101', 'limit', { limit: 101 }],
      ['before=5&after=1', 'before', { before: 5, after: 1 }],
      ['before=abc', 'before', { before: 'abc' }],
      ['after=-1', 'after', { after: -1 }],
      ['after=1.5', 'after', { after: 1.5 }],
    ])('400 for ?%s naming "%s" on both transports', async (query, field, input) => {
      const response = await rest(baseUrl, 'GET', `/rooms/paged/messages?${query}`, { token: reader.token });
      expectRestError(response, 400, field);
      await expectTrpcError(reader.trpc.messages.list.query({ room: 'paged', ...input } as never), 400, field);
    });

    it('404 for an unknown room on both transports', async () => {
      expectRestError(await rest(baseUrl, 'GET', '/rooms/no-such-room/messages', { token: reader.token }), 404);
      await expectTrpcError(reader.trpc.messages.list.query({ room: 'no-such-room' }), 404);
    });

    it('401 without a session or with a garbage token', async () => {
      expectRestError(await rest(baseUrl, 'GET', '/rooms/paged/messages'), 401);
      expectRestError(await rest(baseUrl, 'GET', '/rooms/paged/messages', { token: 'garbage' }), 401);
      await expectTrpcError(trpcClient(baseUrl).messages.list.query({ room: 'paged' }), 401);
      await expectTrpcError(trpcClient(baseUrl, 'garbage').messages.list.query({ room: 'paged' }), 401);
    });
  });

  describe('idempotent retries with clientId', () => {
    async function counts(user: TestUser, room: string) {
      const rooms = ok(await rest<{ rooms: RoomSummary[] }>(baseUrl, 'GET', '/rooms', { token: user.token }));
      const statsRooms = ok(
        await rest<{ rooms: { room: string; messageCount: number }[] }>(baseUrl, 'GET', '/stats/rooms', {
          token: user.token,
        }),
      );
      const statsUsers = ok(
        await rest<{ users: { username: string; messageCount: number }[] }>(baseUrl, 'GET', '/stats/users', {
          token: user.token,
        }),
      );
      const members = ok(
        await rest<{ users: Member[] }>(baseUrl, 'GET', `/rooms/${room}/users`, { token: user.token }),
      );
      return {
        room: rooms.rooms.find((summary) => summary.name === room)?.messageCount,
        statsRoom: statsRooms.rooms.find((entry) => entry.room === room)?.messageCount,
        statsUser: statsUsers.users.find((entry) => entry.username === user.username)?.messageCount,
        member: members.users.find((member) => member.username === user.username)?.messageCount,
        listed: (await allMessages(baseUrl, user.token, room)).length,
      };
    }

    it('the same clientId twice (REST, then a tRPC retry) returns the same message, counted once everywhere', async () => {
      const poster = await newUser(baseUrl);
      await joinRoom(baseUrl, poster.token, 'retry-room');
      const body = { text: 'only once', clientId: 'c3f1a2b4-0000-4000-8000-000000000001' };
      const first = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/retry-room/messages', { token: poster.token, body }),
      );
      const again = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/retry-room/messages', { token: poster.token, body }),
      );
      const viaTrpc = await poster.trpc.messages.post.mutate({ room: 'retry-room', ...body });
      expect(again.message).toEqual(first.message);
      expect(viaTrpc.message).toEqual(first.message);
      expect(first.message.clientId).toBe(body.clientId);

      expect(await counts(poster, 'retry-room')).toEqual({ room: 1, statsRoom: 1, statsUser: 1, member: 1, listed: 1 });

      // The next message still gets the next seq: the retry consumed none.
      const next = await poster.trpc.messages.post.mutate({ room: 'retry-room', text: 'second' });
      expect(next.message.seq).toBe(first.message.seq + 1);
      expect(await counts(poster, 'retry-room')).toEqual({ room: 2, statsRoom: 2, statsUser: 2, member: 2, listed: 2 });
    });

    it('409 when the clientId is reused for different text or another room, on both transports', async () => {
      const poster = await newUser(baseUrl);
      await joinRoom(baseUrl, poster.token, 'conflict-a');
      await joinRoom(baseUrl, poster.token, 'conflict-b');
      const clientId = 'conflict-id-1';
      ok(
        await rest(baseUrl, 'POST', '/rooms/conflict-a/messages', {
          token: poster.token,
          body: { text: 'original', clientId },
        }),
      );
      const otherText = await rest(baseUrl, 'POST', '/rooms/conflict-a/messages', {
        token: poster.token,
        body: { text: 'changed', clientId },
      });
      expectRestError(otherText, 409);
      await expectTrpcError(poster.trpc.messages.post.mutate({ room: 'conflict-a', text: 'changed', clientId }), 409);
      const otherRoom = await rest(baseUrl, 'POST', '/rooms/conflict-b/messages', {
        token: poster.token,
        body: { text: 'original', clientId },
      });
      expectRestError(otherRoom, 409);
      await expectTrpcError(poster.trpc.messages.post.mutate({ room: 'conflict-b', text: 'original', clientId }), 409);

      expect(await counts(poster, 'conflict-a')).toEqual({ room: 1, statsRoom: 1, statsUser: 1, member: 1, listed: 1 });
      expect((await allMessages(baseUrl, poster.token, 'conflict-b')).length).toBe(0);
    });

    it('a burst of concurrent posts from several users, with repeated clientIds in it, behaves as if sent one by one', async () => {
      const room = 'burst';
      const posters = await Promise.all([1, 2, 3, 4].map(() => newUser(baseUrl)));
      for (const poster of posters) await joinRoom(baseUrl, poster.token, room);

      type Answer = { status: number; message?: MessageDto };
      const post = async (poster: TestUser, text: string, clientId: string | undefined, viaRest: boolean) => {
        if (viaRest) {
          const response = await rest<Posted>(baseUrl, 'POST', `/rooms/${room}/messages`, {
            token: poster.token,
            body: clientId === undefined ? { text } : { text, clientId },
          });
          return { status: response.status, message: response.status === 200 ? response.body.message : undefined };
        }
        try {
          const body = await poster.trpc.messages.post.mutate({ room, text, clientId });
          return { status: 200, message: body.message };
        } catch (error) {
          return { status: (await trpcFailure(Promise.reject(error))).status };
        }
      };
      const posterOf = (index: number) => posters[index % posters.length] as TestUser;

      // 180 distinct posts (every other one with a clientId), 16 resends of some of those clientIds
      // with the same text, and 4 clientIds each sent twice with different texts: all in flight at once.
      const originals = Array.from({ length: 180 }, (_, index) => ({
        poster: posterOf(index),
        text: `burst ${index}`,
        clientId: index % 2 === 0 ? `burst-${index}` : undefined,
      }));
      const resent = Array.from({ length: 16 }, (_, index) => index * 10);
      const contested = [0, 1, 2, 3].map((index) => ({ poster: posterOf(index), clientId: `contested-${index}` }));
      const calls: Promise<Answer>[] = [];
      originals.forEach((original, index) => {
        calls.push(post(original.poster, original.text, original.clientId, index % 3 === 0));
        if (resent.includes(index))
          calls.push(post(original.poster, original.text, original.clientId, index % 4 === 0));
        const contest = contested[index / 40];
        if (contest) {
          calls.push(post(contest.poster, 'first wording', contest.clientId, true));
          calls.push(post(contest.poster, 'second wording', contest.clientId, false));
        }
      });
      // One tRPC HTTP batch: its calls reach the server together, so they share one group commit.
      const batched = createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({ url: `${baseUrl}/api/trpc`, headers: { authorization: `Bearer ${posterOf(0).token}` } }),
        ],
      });
      const batchedPost = async (text: string, clientId: string) => {
        try {
          return { status: 200, message: (await batched.messages.post.mutate({ room, text, clientId })).message };
        } catch (error) {
          return { status: (await trpcFailure(Promise.reject(error))).status };
        }
      };
      const sameBatch = [
        batchedPost('said once', 'batched-repeat'),
        batchedPost('said once', 'batched-repeat'),
        batchedPost('first wording', 'batched-contest'),
        batchedPost('second wording', 'batched-contest'),
      ];
      const [repeatA, repeatB, contestA, contestB] = await Promise.all(sameBatch);
      const answers = await Promise.all(calls);
      expect(answers).toHaveLength(180 + 16 + 8);

      // Within one batch, the repeat returns the first post's message and the changed text gets 409.
      expect(repeatA?.status).toBe(200);
      expect(repeatB).toEqual(repeatA);
      expect([contestA?.status, contestB?.status].sort()).toEqual([200, 409]);
      answers.push(...[repeatA, repeatB, contestA, contestB].filter((answer) => answer !== undefined));

      const expectedCount = 180 + contested.length + 2;
      const listed = await allMessages(baseUrl, posters[0]?.token ?? '', room);
      expect(listed.map((message) => message.seq)).toEqual(Array.from({ length: expectedCount }, (_, i) => i + 1));
      expect(new Set(listed.map((message) => message.id)).size).toBe(expectedCount);
      const byId = new Map(listed.map((message) => [message.id, message]));

      // Every answer is either a stored message exactly as listed or, for a contested clientId, a 409.
      const okAnswers = answers.filter((answer) => answer.status === 200);
      expect(okAnswers).toHaveLength(180 + 16 + contested.length + 3);
      for (const answer of okAnswers) expect(byId.get(answer.message?.id ?? -1)).toEqual(answer.message);
      expect(answers.filter((answer) => answer.status === 409)).toHaveLength(contested.length + 1);

      // A resend got the original message: each clientId appears once in the room.
      for (const index of resent) {
        const clientId = originals[index]?.clientId;
        const answered = okAnswers.filter((answer) => answer.message?.clientId === clientId);
        expect(answered).toHaveLength(2);
        expect(answered[1]?.message).toEqual(answered[0]?.message);
        expect(listed.filter((message) => message.clientId === clientId)).toHaveLength(1);
      }
      for (const clientId of [...contested.map((contest) => contest.clientId), 'batched-repeat', 'batched-contest']) {
        expect(listed.filter((message) => message.clientId === clientId)).toHaveLength(1);
      }

      // Counters agree with the stored messages everywhere.
      const perUser = (username: string) => listed.filter((message) => message.author === username).length;
      for (const poster of posters) {
        const seen = await counts(poster, room);
        expect(seen).toEqual({
          room: expectedCount,
          statsRoom: expectedCount,
          statsUser: perUser(poster.username),
          member: perUser(poster.username),
          listed: expectedCount,
        });
      }
      expect(posters.map((poster) => perUser(poster.username))).toEqual([48, 46, 46, 46]);
      const summary = ok(await rest<{ rooms: RoomSummary[] }>(baseUrl, 'GET', '/rooms', { token: alice.token }));
      expect(summary.rooms.find((entry) => entry.name === room)?.lastSeq).toBe(expectedCount);
    });

    it('different users may use the same clientId independently', async () => {
      const one = await newUser(baseUrl);
      const two = await newUser(baseUrl);
      await joinRoom(baseUrl, one.token, 'shared-id');
      await joinRoom(baseUrl, two.token, 'shared-id');
      const clientId = 'same-client-id';
      const first = await one.trpc.messages.post.mutate({ room: 'shared-id', text: 'from one', clientId });
      const second = ok(
        await rest<Posted>(baseUrl, 'POST', '/rooms/shared-id/messages', {
          token: two.token,
          body: { text: 'from two', clientId },
        }),
      );
      expect(second.message.id).not.toBe(first.message.id);
      expect(second.message).toMatchObject({ author: two.username, text: 'from two', clientId });
      // Same text too: still two messages.
      const third = await two.trpc.messages.post.mutate({ room: 'shared-id', text: 'from one', clientId: 'x-2' });
      const fourth = await one.trpc.messages.post.mutate({ room: 'shared-id', text: 'from one', clientId: 'x-2' });
      expect(fourth.message.id).not.toBe(third.message.id);
      expect((await allMessages(baseUrl, one.token, 'shared-id')).map((message) => message.author)).toEqual([
        one.username,
        two.username,
        two.username,
        one.username,
      ]);
    });
  });
});
