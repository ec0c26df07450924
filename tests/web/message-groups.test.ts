import { describe, expect, test } from 'vitest';
import { layoutRows } from '../../web/src/features/chat/message-groups.ts';
import type { Message } from '../../web/src/lib/api-types.ts';
import { dayLabel } from '../../web/src/lib/format-time.ts';

/** The web app's log layout on its own: headers shared within a group, day separators, the unread divider. */

const NOW = new Date(2026, 2, 4, 15, 0);

function message(seq: number, author: string, at: Date): Message {
  return {
    id: seq,
    room: 'lobby',
    seq,
    author,
    text: `message ${seq}`,
    createdAt: at.toISOString(),
    clientId: null,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    replyTo: null,
    mentions: [],
  };
}

const minutes = (base: Date, count: number) => new Date(base.getTime() + count * 60_000);

/** One string per row: "day:Today", "unread", "3 ada" (header) or "3 +" (continued). */
function shape(rows: ReturnType<typeof layoutRows>): string[] {
  return rows.map((row) =>
    row.kind === 'day'
      ? `day:${row.label}`
      : row.kind === 'unread'
        ? 'unread'
        : `${row.message.seq} ${row.continued ? '+' : row.message.author}`,
  );
}

describe('message groups', () => {
  test('one author within 5 minutes shares a header; another author, or a longer pause, starts a new one', () => {
    const start = new Date(2026, 2, 4, 9, 0);
    const messages = [
      message(1, 'ada', start),
      message(2, 'ada', minutes(start, 2)),
      message(3, 'ada', minutes(start, 6.5)),
      message(4, 'grace', minutes(start, 7)),
      message(5, 'ada', minutes(start, 8)),
      message(6, 'ada', minutes(start, 12.99)),
    ];
    // 3 is 4.5 minutes after 2, but it is the gap to the previous message that counts.
    expect(shape(layoutRows(messages, null, NOW))).toEqual([
      'day:Today',
      '1 ada',
      '2 +',
      '3 +',
      '4 grace',
      '5 ada',
      '6 +',
    ]);
    const apart = [message(1, 'ada', start), message(2, 'ada', minutes(start, 5))];
    expect(shape(layoutRows(apart, null, NOW))).toEqual(['day:Today', '1 ada', '2 ada']);
  });

  test('a day separator opens each day and breaks a group across midnight', () => {
    const lateYesterday = new Date(2026, 2, 3, 23, 58);
    const messages = [
      message(1, 'ada', new Date(2026, 1, 20, 12, 0)),
      message(2, 'ada', lateYesterday),
      message(3, 'ada', minutes(lateYesterday, 3)),
      message(4, 'ada', minutes(lateYesterday, 4)),
    ];
    expect(shape(layoutRows(messages, null, NOW))).toEqual([
      `day:${dayLabel(new Date(2026, 1, 20), NOW)}`,
      '1 ada',
      'day:Yesterday',
      '2 ada',
      'day:Today',
      '3 ada',
      '4 +',
    ]);
    expect(dayLabel(new Date(2026, 1, 20), NOW)).not.toMatch(/Today|Yesterday|2026/);
    expect(dayLabel(new Date(2025, 11, 31), NOW)).toMatch(/2025/);
  });

  test('the "New messages" divider goes before the first unread message and starts a new header', () => {
    const start = new Date(2026, 2, 4, 9, 0);
    const messages = [
      message(1, 'ada', start),
      message(2, 'ada', minutes(start, 1)),
      message(3, 'ada', minutes(start, 2)),
    ];
    expect(shape(layoutRows(messages, 2, NOW))).toEqual(['day:Today', '1 ada', 'unread', '2 ada', '3 +']);
    // A divider seq not held shows no divider.
    expect(shape(layoutRows(messages, 9, NOW))).toEqual(['day:Today', '1 ada', '2 +', '3 +']);
  });
});
