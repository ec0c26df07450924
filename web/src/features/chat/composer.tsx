import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';
import {
  MAX_MESSAGE_LENGTH,
  MESSAGE_TEXT_PROBLEMS,
  messageTextProblem,
  normalizeMessageText,
} from '../../../../shared/rules.ts';

/** The counter appears once this close to the limit. */
const COUNTER_FROM = MAX_MESSAGE_LENGTH - 500;
/** "Typing" is announced to the room at most this often while keys are pressed. */
const TYPING_EVERY_MS = 2_000;

interface ComposerProps {
  room: string;
  onSend: (text: string) => void;
  onTyping: () => void;
}

/**
 * Enter sends, Shift+Enter starts a new line. Text the server would refuse (blank or invisible-only,
 * over-long, or holding control characters) cannot be sent: the same rules, from shared/rules.ts.
 */
export function Composer({ room, onSend, onTyping }: ComposerProps) {
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const normalized = normalizeMessageText(text);
  const length = normalized.length;
  const problem = messageTextProblem(text);
  const over = problem === MESSAGE_TEXT_PROBLEMS.tooLong;
  // Blank and over-long have their own cues (a disabled button, the counter); anything else is said.
  const unusual = problem !== null && problem !== MESSAGE_TEXT_PROBLEMS.blank && !over ? problem : null;
  const canSend = problem === null;
  const showCounter = length >= COUNTER_FROM;

  const submit = () => {
    if (!canSend) return;
    onSend(normalized);
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
        aria-describedby={['composer-hint', showCounter ? 'composer-counter' : '', unusual ? 'composer-problem' : '']
          .filter(Boolean)
          .join(' ')}
        aria-invalid={over || unusual !== null || undefined}
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
        {unusual ? (
          <span id="composer-problem" className="composer__counter composer__counter--over">
            The message {unusual}.
          </span>
        ) : null}
      </div>
    </form>
  );
}
