import { expect } from 'vitest';
import { InProcessEventBus, type RoomEvent } from '../server/bus/event-bus.ts';
import { StoreUnavailableError } from '../server/store/errors.ts';
import { GroupCommitWriter } from '../server/store/group-commit.ts';
import type { InsertResult, MessageDto, NewMessage, RoomRow, SessionUser } from '../server/store/store.ts';
import { describeEachBackend, storeTest as test } from './support/stores.ts';

describeEachBackend('GroupCommitWriter', () => {
  test('batches concurrent posts, answers each as alone, publishes after commit in seq order', async ({ store }) => {
    const alice = await store.users.insert('alice', 'h');
    if (!alice) throw new Error('no user');
    const author: SessionUser = { id: alice.id, username: alice.username };
    const general = (await store.rooms.join(alice.id, 'general', new Date())).room;
    const random = (await store.rooms.join(alice.id, 'random', new Date())).room;
    const bus = new InProcessEventBus();
    const published: MessageDto[] = [];
    const answered: number[] = [];
    for (const name of ['general', 'random']) {
      bus.subscribe(name, (event: RoomEvent) => {
        if (event.type !== 'message') return;
        // Published before its caller heard back.
        expect(answered).not.toContain(event.message.id);
        published.push(event.message);
      });
    }
    const batches: number[] = [];
    const writer = new GroupCommitWriter(store.messages, bus, {
      onPublishError: (error) => {
        throw error;
      },
      onBatch: (size) => batches.push(size),
    });
    const post = (room: RoomRow, text: string, clientId: string | null = null): NewMessage => ({
      room,
      author,
      text,
      clientId,
      now: new Date(),
    });
    const inputs = [
      ...Array.from({ length: 40 }, (_, index) => post(index % 2 ? general : random, `m${index}`)),
      post(general, 'keyed', 'k1'),
      post(general, 'keyed', 'k1'),
      post(general, 'changed', 'k1'),
      post({ id: 999, name: 'ghost' }, 'nowhere'),
      post(random, 'last'),
    ];
    const results = await Promise.allSettled(
      inputs.map((input) =>
        writer.insert(input).then((result: InsertResult) => {
          if (result.kind !== 'clientIdConflict') answered.push(result.message.id);
          return result;
        }),
      ),
    );
    const kinds = results.map((result) => (result.status === 'fulfilled' ? result.value.kind : 'rejected'));
    expect(kinds.slice(40)).toEqual(['inserted', 'duplicate', 'clientIdConflict', 'rejected', 'inserted']);
    expect(kinds.slice(0, 40).every((kind) => kind === 'inserted')).toBe(true);
    // Posts made in one turn went as one batch; the ghost room's post made it fail, so every post was
    // then retried alone and the others were stored all the same.
    expect(batches[0]).toBe(inputs.length);
    // Published once per inserted message, each room in seq order without gaps.
    expect(published).toHaveLength(42);
    for (const name of ['general', 'random']) {
      const seqs = published.filter((message) => message.room === name).map((message) => message.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    }
    expect(await store.rooms.lastSeq(general.id)).toBe(21);
    expect(await store.rooms.lastSeq(random.id)).toBe(21);
  });

  test('rejects every post of a batch at once when the database is unavailable', async ({ store }) => {
    const alice = await store.users.insert('alice', 'h');
    if (!alice) throw new Error('no user');
    const general = (await store.rooms.join(alice.id, 'general', new Date())).room;
    const writer = new GroupCommitWriter(store.messages, new InProcessEventBus(), { onPublishError: () => {} });
    await store.close();
    const post = (text: string) =>
      writer.insert({ room: general, author: alice, text, clientId: null, now: new Date() });
    const results = await Promise.allSettled([post('a'), post('b')]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(StoreUnavailableError);
    }
  });
});
