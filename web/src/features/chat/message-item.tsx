import { type FocusEvent, memo, type PointerEvent, useRef, useState } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { fullTime, shortTime } from '../../lib/format-time.ts';
import { MessageBody } from '../markdown/message-body.tsx';
import { mentionsMe } from '../mentions/mention-text.ts';
import { EmojiPicker } from './emoji-picker.tsx';
import { MessageActionBar } from './message-action-bar.tsx';
import { isDeleted } from './message-patches.ts';
import { MessageQuote } from './message-quote.tsx';
import { ReactionBar } from './reaction-bar.tsx';
import type { OutboxItem } from './use-outbox.ts';

/** A touch held this long, without moving, opens the message's actions. */
const LONG_PRESS_MS = 500;
const LONG_PRESS_SLACK_PX = 10;

function Timestamp({ date }: { date: Date }) {
  return (
    <time className="message__time" dateTime={date.toISOString()} title={fullTime(date)}>
      {shortTime(date)}
    </time>
  );
}

/** What a message row can ask of the list; one stable object for all rows, so rows stay memoized. */
export interface MessageHandlers {
  openPicker: (seq: number) => void;
  closePicker: () => void;
  toggleReaction: (seq: number, emoji: string) => void;
  reply: (message: Message) => void;
  edit: (message: Message) => void;
  askDelete: (message: Message) => void;
  jumpTo: (seq: number) => void;
  dismissError: (seq: number) => void;
  /** A long press on a touch screen: show this message's actions. */
  showActions: (seq: number) => void;
}

interface MessageItemProps {
  message: Message;
  me: string;
  own: boolean;
  /**
   * It follows a message by the same author within a few minutes (see message-groups.ts): the
   * header is not repeated. Author and time stay in the page for screen readers; the time shows
   * on hover and focus.
   */
  continued: boolean;
  /** The message it replies to is held and deleted since the quote was made. */
  quoteDeleted: boolean;
  pickerOpen: boolean;
  /** A long press showed its actions. */
  actionsShown: boolean;
  /** Its deletion is being confirmed. */
  confirming: boolean;
  highlighted: boolean;
  editing: boolean;
  error: string | undefined;
  handlers: MessageHandlers;
}

/**
 * One message. Its text is markdown, built as React elements (MessageBody, decision 021): HTML
 * in it is shown as text, never interpreted.
 *
 * Its actions appear while the pointer is over it, while focus is in it (each message is a tab
 * stop; Tab goes on into its actions), and after a long press on a touch screen. Only then are they
 * in the page: the log is a live region, and "React Reply Edit Delete" in every new message would
 * be read out with it.
 */
export const MessageItem = memo(function MessageItem(props: MessageItemProps) {
  const { message, me, own, handlers } = props;
  const deleted = isDeleted(message);
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const showActions = !deleted && (hovered || focused || props.actionsShown || props.pickerOpen || props.confirming);
  const itemRef = useRef<HTMLLIElement>(null);
  const longPress = useRef<{ timer: ReturnType<typeof setTimeout>; x: number; y: number } | null>(null);

  const endPress = () => {
    if (longPress.current) clearTimeout(longPress.current.timer);
    longPress.current = null;
  };
  const onPointerDown = (event: PointerEvent<HTMLLIElement>) => {
    if (event.pointerType !== 'touch' || deleted) return;
    endPress();
    const timer = setTimeout(() => {
      longPress.current = null;
      handlers.showActions(message.seq);
    }, LONG_PRESS_MS);
    longPress.current = { timer, x: event.clientX, y: event.clientY };
  };
  const onPointerMove = (event: PointerEvent<HTMLLIElement>) => {
    const press = longPress.current;
    if (press && Math.hypot(event.clientX - press.x, event.clientY - press.y) > LONG_PRESS_SLACK_PX) endPress();
  };

  const onBlur = (event: FocusEvent<HTMLLIElement>) => {
    if (!(event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget))) setFocused(false);
  };

  const classes = ['message'];
  if (own) classes.push('message--own');
  if (props.continued) classes.push('message--continued');
  if (deleted) classes.push('message--deleted');
  if (props.actionsShown) classes.push('message--actions-shown');
  if (props.highlighted) classes.push('message--highlighted');
  if (props.editing) classes.push('message--editing');
  if (!deleted && !own && mentionsMe(message.mentions, me)) classes.push('message--mentions-me');

  return (
    <li
      ref={itemRef}
      className={classes.join(' ')}
      data-message-id={message.id}
      data-seq={message.seq}
      // A tab stop, so keyboard users reach its actions; also focused when a reply's quote jumps here.
      // biome-ignore lint/a11y/noNoninteractiveTabindex: see above; its actions appear while focus is in it
      tabIndex={0}
      onFocus={() => setFocused(true)}
      onBlur={onBlur}
      onPointerEnter={(event) => {
        if (event.pointerType !== 'touch') setHovered(true);
      }}
      onPointerLeave={() => setHovered(false)}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={endPress}
      onPointerCancel={endPress}
      onContextMenu={(event) => {
        // Some phones open their own menu on a long press, possibly before our timer: show ours instead.
        if (longPress.current) {
          event.preventDefault();
          endPress();
          handlers.showActions(message.seq);
        } else if (props.actionsShown) {
          event.preventDefault();
        }
      }}
    >
      <div className="message__meta">
        <span className={props.continued ? 'message__author visually-hidden' : 'message__author'}>
          {message.author}
        </span>
        {own ? <span className="visually-hidden"> (you)</span> : null}
        <Timestamp date={new Date(message.createdAt)} />
        {message.editedAt && !deleted ? (
          <span className="message__edited" title={`Edited ${fullTime(new Date(message.editedAt))}`}>
            (edited)
          </span>
        ) : null}
        {props.editing ? <span className="message__state">Editing…</span> : null}
      </div>
      {message.replyTo && !deleted ? (
        <MessageQuote
          quote={message.replyTo}
          deleted={message.replyTo.deleted || props.quoteDeleted}
          onJump={handlers.jumpTo}
        />
      ) : null}
      {deleted ? (
        <p className="message__text message__text--deleted">This message was deleted</p>
      ) : (
        <MessageBody text={message.text} mentions={message.mentions} me={me} />
      )}
      {message.reactions.length > 0 ? (
        <ReactionBar
          reactions={message.reactions}
          me={me}
          onToggle={(emoji) => handlers.toggleReaction(message.seq, emoji)}
        />
      ) : null}
      {props.pickerOpen ? (
        <EmojiPicker
          onPick={(emoji) => {
            handlers.closePicker();
            handlers.toggleReaction(message.seq, emoji);
            // The focused emoji button goes with the picker: keep the focus on its message.
            itemRef.current?.focus({ preventScroll: true });
          }}
          onClose={(reason) => {
            handlers.closePicker();
            if (reason === 'escape') itemRef.current?.focus({ preventScroll: true });
          }}
        />
      ) : null}
      {props.error ? (
        <div className="message__failure" role="alert">
          <span>{props.error}</span>
          <button
            type="button"
            className="button button--small button--quiet"
            onClick={() => handlers.dismissError(message.seq)}
          >
            Dismiss
          </button>
        </div>
      ) : null}
      {showActions ? (
        <MessageActionBar
          own={own}
          pickerOpen={props.pickerOpen}
          onReact={() => (props.pickerOpen ? handlers.closePicker() : handlers.openPicker(message.seq))}
          onReply={() => handlers.reply(message)}
          onEdit={() => handlers.edit(message)}
          onDelete={() => handlers.askDelete(message)}
        />
      ) : null}
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
      {item.replyTo ? <MessageQuote quote={item.replyTo} deleted={item.replyTo.deleted} /> : null}
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
