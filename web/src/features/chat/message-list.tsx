import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import type { Message } from '../../lib/api-types.ts';
import { fullDay } from '../../lib/format-time.ts';
import { layoutRows } from './message-groups.ts';
import { type MessageHandlers, MessageItem, PendingItem } from './message-item.tsx';
import { isDeleted } from './message-patches.ts';
import type { OutboxItem } from './use-outbox.ts';

/** Within this many pixels of the end counts as "at the bottom", following new messages. */
const BOTTOM_SLACK_PX = 48;
/** Older history starts loading when the reader scrolls this close to the top. */
const LOAD_OLDER_WITHIN_PX = 240;
/** How long a message jumped to from a reply stays highlighted. */
const HIGHLIGHT_MS = 2_000;
/** Opening at the first unread message leaves this much of what came before it in view. */
const UNREAD_MARGIN_PX = 12;

/** The first message that was unread when the room opened; `held` is false while it is not loaded yet. */
export interface FirstUnread {
  seq: number;
  held: boolean;
}

interface MessageListProps {
  room: string;
  me: string;
  messages: readonly Message[];
  pending: readonly OutboxItem[];
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  onLoadOlder: () => void;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
  /** Loads older history until the message with `seq` is held; see useRoomLive. */
  loadUntil: (seq: number) => Promise<boolean>;
  editingSeq: number | null;
  onEdit: (message: Message) => void;
  onReply: (message: Message) => void;
  /** Called once the reader confirmed. */
  onDelete: (seq: number) => void;
  onToggleReaction: (seq: number, emoji: string) => void;
  /** Why the last change to a message failed, by seq. */
  errors: ReadonlyMap<number, string>;
  onDismissError: (seq: number) => void;
  /** Where the "New messages" divider goes; the room opens there. */
  firstUnread: FirstUnread | null;
  /** The message with `seq`, and all before it, has been on screen (see useReadMarker). */
  onSeen: (seq: number) => void;
  /** Scroll to this message when the list first shows, focus and highlight it (a search result). */
  openAt?: number | null;
}

interface Edges {
  first: string | undefined;
  last: string | undefined;
  keys: readonly string[];
  scrollHeight: number;
  /** The first message shown and where its top was in the log's content (see contentTop). */
  anchor: { id: string; top: number } | null;
}

/** Where `element`'s top is within the log's scrolled content: scrolling does not change it. */
function contentTop(log: HTMLElement, element: Element): number {
  return element.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
}

/** The first message in the log and its content position, to keep it in place when history goes in above. */
function firstAnchor(log: HTMLElement, content: HTMLElement | null): Edges['anchor'] {
  const first = content?.querySelector<HTMLElement>('[data-message-id]');
  const id = first?.dataset.messageId;
  return first && id ? { id, top: contentTop(log, first) } : null;
}

/**
 * The conversation, oldest at the top. Scrolling is managed by hand (overflow-anchor is off):
 * - first render: at the "New messages" divider when there is one and the messages after it do
 *   not fit on screen, otherwise at the bottom;
 * - older page added above: the same messages stay under the reader's eyes;
 * - new messages at the end: followed when the reader was at the bottom (or sent them), otherwise
 *   counted on a "new messages" button that jumps down.
 */
export function MessageList(props: MessageListProps) {
  const { room, me, messages, pending, hasOlder, loadingOlder, olderError, onLoadOlder } = props;
  const logRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  const edges = useRef<Edges | null>(null);
  const [unseen, setUnseen] = useState(0);
  const [pickerSeq, setPickerSeq] = useState<number | null>(null);
  /** The message whose actions a long press showed. */
  const [actionsSeq, setActionsSeq] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<Message | null>(null);
  /** A message to scroll to and focus once it is in the list (it may still be loading). */
  const [jumpSeq, setJumpSeq] = useState<number | null>(props.openAt ?? null);
  const [highlightSeq, setHighlightSeq] = useState<number | null>(null);
  const [focusSeq, setFocusSeq] = useState<number | null>(null);
  /** Whether the "New messages" divider is outside the visible part of the log. */
  const [unreadOffscreen, setUnreadOffscreen] = useState(false);
  /** "Jump to first unread" was pressed while that message was still loading. */
  const [unreadJumpPending, setUnreadJumpPending] = useState(false);
  const { firstUnread } = props;
  const dividerSeq = firstUnread?.held ? firstUnread.seq : null;
  const rows = useMemo(() => layoutRows(messages, dividerSeq), [messages, dividerSeq]);
  const deletedSeqs = useMemo(
    () => new Set(messages.filter((message) => isDeleted(message)).map((message) => message.seq)),
    [messages],
  );
  const heldSeqs = useRef(new Set<number>());
  heldSeqs.current = useMemo(() => new Set(messages.map((message) => message.seq)), [messages]);

  // Handlers read the newest props through a ref, so one object serves every render and every row.
  const latest = useRef(props);
  latest.current = props;
  const handlers = useMemo(
    (): MessageHandlers => ({
      openPicker: (seq) => {
        setActionsSeq(null);
        setPickerSeq(seq);
      },
      closePicker: () => setPickerSeq(null),
      toggleReaction: (seq, emoji) => latest.current.onToggleReaction(seq, emoji),
      reply: (message) => {
        setActionsSeq(null);
        latest.current.onReply(message);
      },
      edit: (message) => {
        setActionsSeq(null);
        latest.current.onEdit(message);
      },
      askDelete: (message) => {
        setActionsSeq(null);
        setConfirming(message);
      },
      jumpTo: (seq) => {
        setJumpSeq(seq);
        if (!heldSeqs.current.has(seq)) {
          void latest.current.loadUntil(seq).then((found) => {
            // Not there after all (an error, which the log shows, or no such message): give up.
            if (!found) setJumpSeq((current) => (current === seq ? null : current));
          });
        }
      },
      dismissError: (seq) => latest.current.onDismissError(seq),
      showActions: (seq) => setActionsSeq(seq),
    }),
    [],
  );

  const keys = [...messages.map((message) => `m${message.id}`), ...pending.map((item) => `p${item.clientId}`)];
  const ownKeys = new Set([
    ...messages.filter((message) => message.author === me).map((message) => `m${message.id}`),
    ...pending.map((item) => `p${item.clientId}`),
  ]);

  const scrollToBottom = () => {
    const log = logRef.current;
    if (!log) return;
    log.scrollTop = log.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs after every change of the item list; reads refs
  useLayoutEffect(() => {
    const log = logRef.current;
    if (!log) return;
    const before = edges.current;
    const first = keys[0];
    const last = keys.at(-1);
    if (!before) {
      const divider = log.querySelector<HTMLElement>('.log-unread');
      if (divider) {
        log.scrollTop += divider.getBoundingClientRect().top - log.getBoundingClientRect().top - UNREAD_MARGIN_PX;
        atBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK_PX;
      } else {
        log.scrollTop = log.scrollHeight;
      }
    } else if (first !== before.first && last === before.last) {
      // Older history went in above: the message that was first stays where it was. (Not just the
      // height added: that message may itself lose its header, now that its author's previous
      // message is above it.)
      const anchor = before.anchor
        ? contentRef.current?.querySelector(`[data-message-id="${before.anchor.id}"]`)
        : null;
      if (before.anchor && anchor) log.scrollTop += contentTop(log, anchor) - before.anchor.top;
      else log.scrollTop += log.scrollHeight - before.scrollHeight;
    } else if (last !== before.last) {
      const previous = new Set(before.keys);
      const added = keys.filter((key) => !previous.has(key));
      const addedByOthers = added.filter((key) => !ownKeys.has(key)).length;
      const sentByMe = added.length > addedByOthers;
      if (atBottom.current || sentByMe) scrollToBottom();
      else if (addedByOthers > 0) setUnseen((count) => count + addedByOthers);
    }
    edges.current = { first, last, keys, scrollHeight: log.scrollHeight, anchor: firstAnchor(log, contentRef.current) };
    // A short first page leaves nothing to scroll: fetch more until the log can scroll.
    if (hasOlder && !loadingOlder && !olderError && log.scrollHeight <= log.clientHeight) onLoadOlder();
    reportSeen();
  }, [keys.join(' '), hasOlder, loadingOlder]);

  /**
   * Tells useReadMarker the newest message on screen now (it ignores sightings in a hidden or
   * unfocused tab). Once per frame at most: scrolling calls it constantly.
   */
  const seenFrame = useRef(0);
  const reportSeen = useCallback(() => {
    if (seenFrame.current !== 0) return;
    seenFrame.current = requestAnimationFrame(() => {
      seenFrame.current = 0;
      const log = logRef.current;
      const items = contentRef.current?.querySelectorAll<HTMLElement>('[data-seq]');
      if (!log || !items) return;
      const bottom = log.getBoundingClientRect().bottom;
      // From the newest back: usually the newest is on screen and this stops at once.
      for (let index = items.length - 1; index >= 0; index -= 1) {
        const item = items[index];
        if (item && item.getBoundingClientRect().top < bottom) {
          latest.current.onSeen(Number(item.dataset.seq));
          return;
        }
      }
    });
  }, []);

  // Coming back to the tab counts as seeing what is on screen.
  useEffect(() => {
    window.addEventListener('focus', reportSeen);
    document.addEventListener('visibilitychange', reportSeen);
    return () => {
      window.removeEventListener('focus', reportSeen);
      document.removeEventListener('visibilitychange', reportSeen);
      cancelAnimationFrame(seenFrame.current);
      seenFrame.current = 0;
    };
  }, [reportSeen]);

  // Whether the divider is on screen, for the "Jump to first unread" button.
  useEffect(() => {
    const log = logRef.current;
    const divider = dividerSeq === null ? null : log?.querySelector('.log-unread');
    if (!log || !divider) {
      setUnreadOffscreen(false);
      return;
    }
    const observer = new IntersectionObserver(([entry]) => setUnreadOffscreen(entry ? !entry.isIntersecting : false), {
      root: log,
    });
    observer.observe(divider);
    return () => observer.disconnect();
  }, [dividerSeq]);

  const scrollToUnread = useCallback(() => {
    const log = logRef.current;
    const divider = log?.querySelector<HTMLElement>('.log-unread');
    if (!log || !divider) return false;
    log.scrollTop += divider.getBoundingClientRect().top - log.getBoundingClientRect().top - UNREAD_MARGIN_PX;
    atBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK_PX;
    // Keyboard and screen reader users land on the message itself.
    divider.nextElementSibling instanceof HTMLElement && divider.nextElementSibling.focus({ preventScroll: true });
    return true;
  }, []);

  const jumpToUnread = () => {
    if (!firstUnread) return;
    if (firstUnread.held) {
      scrollToUnread();
      return;
    }
    setUnreadJumpPending(true);
    void latest.current.loadUntil(firstUnread.seq).then((found) => {
      if (!found) setUnreadJumpPending(false);
    });
  };

  // Keep the newest message in view while the log or its content changes size (window resized,
  // composer grew, a font finished loading) if the reader was at the bottom.
  useEffect(() => {
    const log = logRef.current;
    const content = contentRef.current;
    if (!log || !content) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) log.scrollTop = log.scrollHeight;
      if (edges.current) {
        edges.current = { ...edges.current, scrollHeight: log.scrollHeight, anchor: firstAnchor(log, content) };
      }
    });
    observer.observe(log);
    observer.observe(content);
    return () => observer.disconnect();
  }, []);

  // After the layout effect above (which keeps the view steady when older history goes in above).
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs again whenever the item list changed
  useLayoutEffect(() => {
    if (jumpSeq === null) return;
    const target = contentRef.current?.querySelector<HTMLElement>(`[data-seq="${jumpSeq}"]`);
    if (!target) return;
    atBottom.current = false;
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
    setJumpSeq(null);
    setHighlightSeq(jumpSeq);
  }, [jumpSeq, keys.join(' ')]);

  // After the layout effect above, like the jump to a quoted message.
  useLayoutEffect(() => {
    if (unreadJumpPending && dividerSeq !== null && scrollToUnread()) setUnreadJumpPending(false);
  }, [unreadJumpPending, dividerSeq, scrollToUnread]);

  useEffect(() => {
    if (highlightSeq === null) return;
    const timer = setTimeout(() => setHighlightSeq(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlightSeq]);

  // Actions shown by a long press stay until a touch lands outside that message.
  useEffect(() => {
    if (actionsSeq === null) return;
    const onPointerDown = (event: PointerEvent) => {
      const shown = contentRef.current?.querySelector(`[data-seq="${actionsSeq}"]`);
      if (!(event.target instanceof Node) || !shown?.contains(event.target)) setActionsSeq(null);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [actionsSeq]);

  const confirmDelete = useCallback(() => {
    if (!confirming) return;
    const seq = confirming.seq;
    setConfirming(null);
    latest.current.onDelete(seq);
    setFocusSeq(seq);
  }, [confirming]);

  // Its Delete button is gone with the message's text: keep the focus on the message instead of
  // losing it. An effect, so it runs once the dialog (which makes the rest of the page inert) closed.
  useEffect(() => {
    if (focusSeq === null) return;
    contentRef.current?.querySelector<HTMLElement>(`[data-seq="${focusSeq}"]`)?.focus({ preventScroll: true });
    setFocusSeq(null);
  }, [focusSeq]);

  const onScroll = () => {
    const log = logRef.current;
    if (!log) return;
    atBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK_PX;
    if (atBottom.current && unseen > 0) setUnseen(0);
    if (log.scrollTop <= LOAD_OLDER_WITHIN_PX && hasOlder && !loadingOlder && !olderError) onLoadOlder();
    reportSeen();
  };

  return (
    <div className="log-frame">
      <div
        ref={logRef}
        className="log"
        role="log"
        aria-live="polite"
        aria-label={`Conversation in #${room}`}
        aria-busy={loadingOlder || undefined}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users must be able to focus it
        tabIndex={0}
        onScroll={onScroll}
      >
        <div className="log__start">
          {hasOlder ? (
            loadingOlder ? (
              <p className="muted">Loading earlier messages…</p>
            ) : (
              <>
                {olderError ? <p className="inline-error">Could not load earlier messages: {olderError}</p> : null}
                <button type="button" className="button button--small button--quiet" onClick={onLoadOlder}>
                  Load earlier messages
                </button>
              </>
            )
          ) : messages.length > 0 ? (
            <p className="muted">This is the beginning of #{room}.</p>
          ) : null}
        </div>
        {messages.length === 0 && pending.length === 0 ? (
          <p className="log__empty muted">No messages yet. Say hello!</p>
        ) : null}
        <ol className="messages" ref={contentRef}>
          {rows.map((row) =>
            row.kind === 'day' ? (
              <li key={row.key} className="log-day">
                <time dateTime={isoDay(row.date)} title={fullDay(row.date)}>
                  {row.label}
                </time>
              </li>
            ) : row.kind === 'unread' ? (
              <li key={row.key} className="log-unread">
                <span>New messages</span>
              </li>
            ) : (
              <MessageItem
                key={row.key}
                message={row.message}
                me={me}
                own={row.message.author === me}
                continued={row.continued}
                quoteDeleted={row.message.replyTo !== null && deletedSeqs.has(row.message.replyTo.seq)}
                pickerOpen={pickerSeq === row.message.seq}
                actionsShown={actionsSeq === row.message.seq}
                confirming={confirming?.seq === row.message.seq}
                highlighted={highlightSeq === row.message.seq}
                editing={props.editingSeq === row.message.seq}
                error={props.errors.get(row.message.seq)}
                handlers={handlers}
              />
            ),
          )}
          {pending.map((item) => (
            <PendingItem
              key={item.clientId}
              item={item}
              author={me}
              onRetry={props.onRetry}
              onDiscard={props.onDiscard}
            />
          ))}
        </ol>
      </div>
      {firstUnread && (!firstUnread.held || unreadOffscreen) ? (
        <button type="button" className="jump-to-unread" onClick={jumpToUnread} disabled={unreadJumpPending}>
          {unreadJumpPending ? 'Loading…' : 'Jump to first unread'}
        </button>
      ) : null}
      {unseen > 0 ? (
        <button type="button" className="jump-to-latest" onClick={scrollToBottom}>
          {unseen === 1 ? '1 new message' : `${unseen} new messages`} <span aria-hidden="true">↓</span>
        </button>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title="Delete this message?"
          confirmLabel="Delete"
          onConfirm={confirmDelete}
          onCancel={() => setConfirming(null)}
        >
          <p>Everyone in #{room} will see “This message was deleted” in its place. This cannot be undone.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** "2026-03-02": the local calendar day, for a day separator's <time dateTime>. */
function isoDay(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
