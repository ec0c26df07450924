import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { MessageItem, PendingItem } from './message-item.tsx';
import type { OutboxItem } from './use-outbox.ts';

/** Within this many pixels of the end counts as "at the bottom", following new messages. */
const BOTTOM_SLACK_PX = 48;
/** Older history starts loading when the reader scrolls this close to the top. */
const LOAD_OLDER_WITHIN_PX = 240;

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
}

interface Edges {
  first: string | undefined;
  last: string | undefined;
  keys: readonly string[];
  scrollHeight: number;
}

/**
 * The conversation, oldest at the top. Scrolling is managed by hand (overflow-anchor is off):
 * - first render: at the bottom;
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
      log.scrollTop = log.scrollHeight;
    } else if (first !== before.first && last === before.last) {
      // Older history went in above: shift by exactly what was added.
      log.scrollTop += log.scrollHeight - before.scrollHeight;
    } else if (last !== before.last) {
      const previous = new Set(before.keys);
      const added = keys.filter((key) => !previous.has(key));
      const addedByOthers = added.filter((key) => !ownKeys.has(key)).length;
      const sentByMe = added.length > addedByOthers;
      if (atBottom.current || sentByMe) scrollToBottom();
      else if (addedByOthers > 0) setUnseen((count) => count + addedByOthers);
    }
    edges.current = { first, last, keys, scrollHeight: log.scrollHeight };
    // A short first page leaves nothing to scroll: fetch more until the log can scroll.
    if (hasOlder && !loadingOlder && !olderError && log.scrollHeight <= log.clientHeight) onLoadOlder();
  }, [keys.join(' '), hasOlder, loadingOlder]);

  // Keep the newest message in view while the log or its content changes size (window resized,
  // composer grew, a font finished loading) if the reader was at the bottom.
  useEffect(() => {
    const log = logRef.current;
    const content = contentRef.current;
    if (!log || !content) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) log.scrollTop = log.scrollHeight;
      if (edges.current) edges.current = { ...edges.current, scrollHeight: log.scrollHeight };
    });
    observer.observe(log);
    observer.observe(content);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const log = logRef.current;
    if (!log) return;
    atBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK_PX;
    if (atBottom.current && unseen > 0) setUnseen(0);
    if (log.scrollTop <= LOAD_OLDER_WITHIN_PX && hasOlder && !loadingOlder && !olderError) onLoadOlder();
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
          {messages.map((message) => (
            <MessageItem key={message.id} message={message} own={message.author === me} />
          ))}
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
      {unseen > 0 ? (
        <button type="button" className="jump-to-latest" onClick={scrollToBottom}>
          {unseen === 1 ? '1 new message' : `${unseen} new messages`} <span aria-hidden="true">↓</span>
        </button>
      ) : null}
    </div>
  );
}
