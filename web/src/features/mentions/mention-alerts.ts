import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { mentionsMe } from './mention-text.ts';

/**
 * Opt-in desktop notifications for messages that mention me while the tab is hidden. The choice is
 * kept in localStorage (per browser, like the permission itself); permission is asked only from a
 * click on the toggle (see MentionAlertsToggle), never on load.
 */
const STORAGE_KEY = 'atlas-chat:mention-notifications';
/** The longest message text a notification shows. */
const BODY_LENGTH = 160;

const listeners = new Set<() => void>();

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function readEnabled(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'on';
  } catch {
    return false;
  }
}

/** On only when chosen here and allowed by the browser. */
export function mentionAlertsOn(): boolean {
  return notificationsSupported() && Notification.permission === 'granted' && readEnabled();
}

export function setMentionAlerts(on: boolean): void {
  try {
    if (on) localStorage.setItem(STORAGE_KEY, 'on');
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab changed it.
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function useMentionAlertsOn(): boolean {
  return useSyncExternalStore(subscribe, mentionAlertsOn, () => false);
}

function show(title: string, body: string, tag: string): void {
  try {
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker: nothing to show then.
  }
}

/**
 * For the open room's live stream: each new message from someone else that mentions me, while the
 * tab is hidden, becomes a notification with its author and text.
 */
export function useMentionNotifier(room: string, me: string): (messages: readonly Message[]) => void {
  return useCallback(
    (messages: readonly Message[]) => {
      if (document.visibilityState !== 'hidden' || !mentionAlertsOn()) return;
      for (const message of messages) {
        if (message.author === me || message.deletedAt !== null || !mentionsMe(message.mentions, me)) continue;
        const body = message.text.length > BODY_LENGTH ? `${message.text.slice(0, BODY_LENGTH)}…` : message.text;
        show(`${message.author} mentioned you in #${room}`, body, `mention:${room}:${message.seq}`);
      }
    },
    [room, me],
  );
}

/**
 * For the other rooms, whose messages this tab does not receive: a rise in a room's mention count
 * (rooms.mine / me.events) while the tab is hidden becomes one notification for that room.
 */
export function useMentionCountAlerts(
  rooms: readonly { name: string; mentionCount: number }[] | null,
  openRoom: string | null,
): void {
  const previous = useRef<Map<string, number> | null>(null);
  useEffect(() => {
    if (!rooms) return;
    const before = previous.current;
    previous.current = new Map(rooms.map((row) => [row.name, row.mentionCount]));
    // The first list is the starting point, not news.
    if (!before || document.visibilityState !== 'hidden' || !mentionAlertsOn()) return;
    for (const row of rooms) {
      const was = before.get(row.name) ?? 0;
      if (row.name === openRoom || row.mentionCount <= was) continue;
      const added = row.mentionCount - was;
      show(
        `You were mentioned in #${row.name}`,
        added === 1 ? '1 new mention' : `${added} new mentions`,
        `mentions:${row.name}`,
      );
    }
  }, [rooms, openRoom]);
}
