import type { Message } from '../../lib/api-types.ts';
import { dayLabel, sameDay } from '../../lib/format-time.ts';

/** Messages by one author this close together share one header (author and time). */
export const GROUP_WINDOW_MS = 5 * 60_000;

export type LogRow =
  | { kind: 'day'; key: string; label: string; date: Date }
  | { kind: 'unread'; key: 'unread' }
  | { kind: 'message'; key: number; message: Message; continued: boolean };

/**
 * The rows of the log: a separator at the start of each day, the "New messages" divider before
 * `firstUnreadSeq`, and each message marked `continued` when it follows a message by the same author
 * within GROUP_WINDOW_MS on the same day, with no separator or divider between them.
 */
export function layoutRows(messages: readonly Message[], firstUnreadSeq: number | null, now = new Date()): LogRow[] {
  const rows: LogRow[] = [];
  let previous: { author: string; at: Date } | null = null;
  for (const message of messages) {
    const at = new Date(message.createdAt);
    let breaks = false;
    if (previous === null || !sameDay(previous.at, at)) {
      rows.push({ kind: 'day', key: `day-${at.toDateString()}`, label: dayLabel(at, now), date: at });
      breaks = true;
    }
    if (message.seq === firstUnreadSeq) {
      rows.push({ kind: 'unread', key: 'unread' });
      breaks = true;
    }
    const elapsed = previous === null ? Number.POSITIVE_INFINITY : at.getTime() - previous.at.getTime();
    const continued =
      !breaks && previous !== null && previous.author === message.author && elapsed >= 0 && elapsed < GROUP_WINDOW_MS;
    rows.push({ kind: 'message', key: message.id, message, continued });
    previous = { author: message.author, at };
  }
  return rows;
}
