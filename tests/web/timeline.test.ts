import { describe, expect, test } from 'vitest';
import { deletePatch, editPatch, reactPatch } from '../../web/src/features/chat/message-patches.ts';
import { Timeline } from '../../web/src/features/chat/timeline.ts';
import type { Message } from '../../web/src/lib/api-types.ts';

/** The web app's timeline on its own: which state of a message wins when several arrive. */

function message(seq: number, changes: Partial<Message> = {}): Message {
  return {
    id: seq,
    room: 'lobby',
    seq,
    author: 'alice',
    text: `message ${seq}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
    clientId: null,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    replyTo: null,
    mentions: [],
    ...changes,
  };
}

const EDITED_AT = '2026-01-02T00:00:00.000Z';
const texts = (timeline: Timeline) => timeline.getSnapshot().messages.map((shown) => shown.text);

describe('timeline', () => {
  test('a live update replaces the message with its seq; one for a message not held changes nothing', () => {
    const timeline = new Timeline();
    timeline.replace([message(1), message(2)], false, timeline.mark());
    const before = timeline.getSnapshot().messages[0];
    timeline.update([message(2, { text: 'edited', editedAt: EDITED_AT })]);
    expect(texts(timeline)).toEqual(['message 1', 'edited']);
    // Untouched rows keep their identity (they do not re-render).
    expect(timeline.getSnapshot().messages[0]).toBe(before);
    timeline.update([message(7, { text: 'elsewhere' })]);
    expect(texts(timeline)).toEqual(['message 1', 'edited']);
  });

  test('an older page fetched before a live update gets the update, not its stale copy', () => {
    const timeline = new Timeline();
    timeline.replace([message(3), message(4)], true, timeline.mark());
    const since = timeline.mark();
    // The page for before=3 is on its way when message 1 is edited on the stream.
    timeline.update([message(1, { text: 'edited meanwhile', editedAt: EDITED_AT })]);
    timeline.prepend([message(1), message(2)], false, since);
    expect(texts(timeline)).toEqual(['edited meanwhile', 'message 2', 'message 3', 'message 4']);
    // A page fetched after the update is as new as it: its copy is used.
    timeline.replace([message(3, { text: 'fresh' }), message(4)], true, timeline.mark());
    expect(texts(timeline)).toEqual(['fresh', 'message 4']);
  });

  test('the answer to our own change is ignored once the stream sent a newer state', () => {
    const timeline = new Timeline();
    timeline.replace([message(1)], false, timeline.mark());
    const since = timeline.mark();
    const reacted = message(1, { reactions: [{ emoji: '👍', count: 2, usernames: ['alice', 'bob'] }] });
    timeline.update([reacted]);
    timeline.applyAnswer(message(1, { reactions: [{ emoji: '👍', count: 1, usernames: ['alice'] }] }), since);
    expect(timeline.getSnapshot().messages[0]?.reactions).toEqual(reacted.reactions);
    // Without a stream update since, the answer is the newest state.
    timeline.applyAnswer(message(1, { text: 'edited', editedAt: EDITED_AT }), timeline.mark());
    expect(texts(timeline)).toEqual(['edited']);
  });

  test('optimistic changes show at once, stack in order, and go when dropped', () => {
    const timeline = new Timeline();
    timeline.replace([message(1)], false, timeline.mark());
    const dropEdit = timeline.overlay(1, editPatch('typo fixed', new Date(EDITED_AT)));
    const dropReact = timeline.overlay(1, reactPatch('🎉', 'alice'));
    const shown = timeline.getSnapshot().messages[0];
    expect([shown?.text, shown?.editedAt, shown?.reactions]).toEqual([
      'typo fixed',
      EDITED_AT,
      [{ emoji: '🎉', count: 1, usernames: ['alice'] }],
    ]);
    dropEdit();
    expect(texts(timeline)).toEqual(['message 1']);
    expect(timeline.getSnapshot().messages[0]?.reactions).toHaveLength(1);
    dropReact();
    expect(timeline.getSnapshot().messages[0]).toEqual(message(1));
  });

  test('a deletion is reported once, whichever of answer and live update comes first', () => {
    const timeline = new Timeline();
    timeline.replace([message(1), message(2)], false, timeline.mark());
    const drop = timeline.overlay(2, deletePatch(new Date(EDITED_AT)));
    expect(texts(timeline)).toEqual(['message 1', '']);
    const tombstone = message(2, { text: '', deletedAt: EDITED_AT });
    expect(timeline.applyAnswer(tombstone, timeline.mark())).toEqual([tombstone]);
    drop();
    expect(timeline.update([tombstone])).toEqual([]);
    expect(timeline.getSnapshot().messages[1]?.deletedAt).toBe(EDITED_AT);
  });
});
