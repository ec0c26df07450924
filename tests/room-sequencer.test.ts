import { describe, expect, it, vi } from 'vitest';
import type { RoomEvent } from '../server/bus/event-bus.ts';
import { type RoomFeed, RoomSequencer } from '../server/bus/room-sequencer.ts';
import type { MessageDto } from '../server/schemas.ts';

/**
 * The ordering layer of the Redis bus on its own: a room's messages arrive at most once and in any
 * order (as Redis pub/sub across publishers delivers them); listeners get each exactly once, in seq
 * order, gaps read from the "database" (an array here).
 */

const message = (seq: number): MessageDto => ({
  id: seq,
  room: 'r',
  seq,
  author: 'alice',
  text: `m${seq}`,
  clientId: null,
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deletedAt: null,
  reactions: [],
  replyTo: null,
  mentions: [],
});
/** A room without edits: each post is the change numbered by its seq. */
const event = (seq: number): RoomEvent => ({ type: 'message', message: message(seq), change: seq });

function setup(committed: number, options: { gapHoldMs?: number } = {}) {
  const database = { head: committed, reads: 0 };
  const feed: RoomFeed = {
    head: async () => database.head,
    heads: async (rooms) => new Map(rooms.map((room) => [room, database.head])),
    after: async (_room, after, limit) => {
      database.reads += 1;
      const changes = [];
      for (let seq = after + 1; seq <= Math.min(database.head, after + limit); seq += 1) {
        changes.push({ change: seq, type: 'message' as const, message: message(seq) });
      }
      return { changes, hasMore: after + limit < database.head };
    },
  };
  const sequencer = new RoomSequencer(feed, { gapHoldMs: options.gapHoldMs ?? 20 });
  const received: number[] = [];
  const others: RoomEvent[] = [];
  sequencer.subscribe(
    'r',
    (e) => (e.type === 'message' ? received.push(e.message.seq) : others.push(e)),
    async () => {},
  );
  return { sequencer, database, received, others };
}

describe('RoomSequencer', () => {
  it('delivers in-order messages at once, drops late and repeated ones', async () => {
    const { sequencer, database, received } = setup(3);
    await sequencer.ready('r');
    for (const seq of [4, 5, 5, 3, 6]) {
      database.head = Math.max(database.head, seq);
      sequencer.receive('r', event(seq));
    }
    expect(received).toEqual([4, 5, 6]);
    expect(database.reads).toBe(0);
  });

  it('reorders crossing messages without the database when the gap closes in time', async () => {
    const { sequencer, database, received } = setup(0, { gapHoldMs: 1000 });
    await sequencer.ready('r');
    database.head = 4;
    for (const seq of [2, 4, 1, 3]) sequencer.receive('r', event(seq));
    expect(received).toEqual([1, 2, 3, 4]);
    expect(database.reads).toBe(0);
  });

  it('fills a gap that stays open from the database, once for every listener', async () => {
    const { sequencer, database, received } = setup(0);
    const second: number[] = [];
    sequencer.subscribe(
      'r',
      (e) => e.type === 'message' && second.push(e.message.seq),
      async () => {},
    );
    await sequencer.ready('r');
    database.head = 250;
    sequencer.receive('r', event(1));
    sequencer.receive('r', event(250)); // 2..249 were lost
    await vi.waitFor(() => expect(received).toHaveLength(250));
    expect(received).toEqual(Array.from({ length: 250 }, (_, index) => index + 1));
    expect(second).toEqual(received);
    expect(database.reads).toBe(3); // pages of 100
    sequencer.receive('r', event(120)); // late, after the fill
    expect(received).toHaveLength(250);
  });

  it('catches up to the head when nothing arrives (lost PUBLISHes in a quiet room)', async () => {
    const { sequencer, database, received } = setup(5);
    await sequencer.ready('r');
    database.head = 8;
    await sequencer.catchUpAll();
    expect(received).toEqual([6, 7, 8]);
  });

  it('reads the head once subscribed and starts after it, holding what arrived before', async () => {
    const database = { head: 10 };
    const feed: RoomFeed = {
      head: async () => database.head,
      heads: async () => new Map(),
      after: async () => ({ changes: [], hasMore: false }),
    };
    const sequencer = new RoomSequencer(feed);
    let subscribed = () => {};
    const received: number[] = [];
    sequencer.subscribe(
      'r',
      (e) => e.type === 'message' && received.push(e.message.seq),
      () => new Promise<void>((resolve) => (subscribed = resolve)),
    );
    sequencer.receive('r', event(9)); // already committed: in the head
    sequencer.receive('r', event(11)); // committed after the head was read
    database.head = 10;
    subscribed();
    await sequencer.ready('r');
    expect(received).toEqual([11]);
  });

  it('passes presence and typing through as they come', async () => {
    const { sequencer, others } = setup(0);
    sequencer.receive('r', { type: 'presence', online: ['alice'] });
    sequencer.receive('r', { type: 'typing', usernames: [] });
    expect(others.map((e) => e.type)).toEqual(['presence', 'typing']);
    sequencer.receive('elsewhere', { type: 'presence', online: [] });
    expect(others).toHaveLength(2);
  });
});
