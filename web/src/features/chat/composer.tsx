import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';
import { MAX_MESSAGE_LENGTH } from '../../lib/rules.ts';

/** The counter appears once this close to the limit. */
const COUNTER_FROM = MAX_MESSAGE_LENGTH - 500;
/** "Typing" is announced to the room at most this often while keys are pressed. */
const TYPING_EVERY_MS = 2_000;

interface ComposerProps {
  room: string;
  onSend: (text: string) => void;
  onTyping: () => void;
}

/** Enter sends, Shift+Enter starts a new line; blank or over-long text cannot be sent. */
export function Composer({ room, onSend, onTyping }: ComposerProps) {
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const length = text.trim().length;
  const over = length > MAX_MESSAGE_LENGTH;
  const canSend = length > 0 && !over;
  const showCounter = length >= COUNTER_FROM;

  const submit = () => {
    if (!canSend) return;
    onSend(text.trim());
    setText('');
    lastTyping.current = 0;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME candidate (Japanese, Chinese…) must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const onChange = (value: string) => {
    setText(value);
    const now = Date.now();
    if (value.trim() !== '' && now - lastTyping.current >= TYPING_EVERY_MS) {
      lastTyping.current = now;
      onTyping();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        submit();
      }}
    >
      <label htmlFor="composer-text" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-text"
        className="composer__input"
        rows={1}
        placeholder={`Write to #${room}`}
        value={text}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={showCounter ? 'composer-hint composer-counter' : 'composer-hint'}
        aria-invalid={over || undefined}
        enterKeyHint="send"
      />
      <button type="submit" className="button button--primary composer__send" disabled={!canSend}>
        Send
      </button>
      <div className="composer__footer">
        <span id="composer-hint" className="composer__hint">
          Enter to send · Shift+Enter for a new line
        </span>
        {showCounter ? (
          <span
            id="composer-counter"
            className={over ? 'composer__counter composer__counter--over' : 'composer__counter'}
          >
            {over
              ? `${(length - MAX_MESSAGE_LENGTH).toLocaleString()} characters over the ${MAX_MESSAGE_LENGTH.toLocaleString()} limit`
              : `${(MAX_MESSAGE_LENGTH - length).toLocaleString()} characters left`}
          </span>
        ) : null}
      </div>
    </form>
  );
}
