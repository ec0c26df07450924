import { memo } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { fullTime, shortTime } from '../../lib/format-time.ts';
import type { OutboxItem } from './use-outbox.ts';

function Timestamp({ date }: { date: Date }) {
  return (
    <time className="message__time" dateTime={date.toISOString()} title={fullTime(date)}>
      {shortTime(date)}
    </time>
  );
}

/** One message. Text goes in as a React text node: markup in it is shown, never interpreted. */
export const MessageItem = memo(function MessageItem({ message, own }: { message: Message; own: boolean }) {
  return (
    <li className={own ? 'message message--own' : 'message'} data-message-id={message.id} data-seq={message.seq}>
      <div className="message__meta">
        <span className="message__author">{message.author}</span>
        {own ? <span className="visually-hidden"> (you)</span> : null}
        <Timestamp date={new Date(message.createdAt)} />
      </div>
      <p className="message__text">{message.text}</p>
    </li>
  );
});

interface PendingItemProps {
  item: OutboxItem;
  author: string;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
}

/** Our own message on its way to the server, or stuck with the reason and a way to retry. */
export function PendingItem({ item, author, onRetry, onDiscard }: PendingItemProps) {
  const failed = item.state === 'failed';
  return (
    <li
      className={failed ? 'message message--own message--failed' : 'message message--own message--pending'}
      data-client-id={item.clientId}
    >
      <div className="message__meta">
        <span className="message__author">{author}</span>
        <span className="message__state">{failed ? 'Not sent' : 'Sending…'}</span>
      </div>
      <p className="message__text">{item.text}</p>
      {failed ? (
        <div className="message__failure">
          <span>{item.error}</span>
          <button type="button" className="button button--small" onClick={() => onRetry(item.clientId)}>
            Retry
          </button>
          <button type="button" className="button button--small button--quiet" onClick={() => onDiscard(item.clientId)}>
            Discard
          </button>
        </div>
      ) : null}
    </li>
  );
}
