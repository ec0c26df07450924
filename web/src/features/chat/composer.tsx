import { type FormEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  MAX_MESSAGE_LENGTH,
  MESSAGE_TEXT_PROBLEMS,
  messageTextProblem,
  normalizeMessageText,
} from '../../../../shared/rules.ts';
import { useMentionAutocomplete } from '../mentions/use-mention-autocomplete.tsx';

/** The counter appears once this close to the limit. */
const COUNTER_FROM = MAX_MESSAGE_LENGTH - 500;
/** "Typing" is announced to the room at most this often while keys are pressed. */
const TYPING_EVERY_MS = 2_000;

export interface ComposerEdit {
  seq: number;
  /** The message's text when editing started. */
  text: string;
}

interface ComposerProps {
  room: string;
  /** The signed-in user: not offered when typing `@`. */
  me: string;
  onSend: (text: string) => void;
  onTyping: () => void;
  /** The message being edited, if any: the composer holds its text and saves instead of sending. */
  editing: ComposerEdit | null;
  onSaveEdit: (seq: number, text: string) => void;
  onCancelEdit: () => void;
  /** Up arrow in the empty composer: edit my last message. False when there is none. */
  onEditLast: () => boolean;
  /** The author of the message the next one replies to, if any. */
  replyingTo: { seq: number; author: string } | null;
  onCancelReply: () => void;
}

/**
 * Enter sends, Shift+Enter starts a new line. Text the server would refuse (blank or invisible-only,
 * over-long, or holding control characters) cannot be sent: the same rules, from shared/rules.ts.
 *
 * Editing reuses the composer: the draft is put aside while the message's text is edited (Enter
 * saves, Escape cancels) and comes back afterwards.
 */
export function Composer(props: ComposerProps) {
  const { room, onSend, onTyping, editing, replyingTo } = props;
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const mention = useMentionAutocomplete({ room, me: props.me, text, setText, inputRef });
  const textRef = useRef(text);
  textRef.current = text;
  /** The draft put aside while editing; null when not editing. */
  const draft = useRef<string | null>(null);
  const caretToEnd = useRef(false);
  const normalized = normalizeMessageText(text);
  const length = normalized.length;
  const problem = messageTextProblem(text);
  const over = problem === MESSAGE_TEXT_PROBLEMS.tooLong;
  // Blank and over-long have their own cues (a disabled button, the counter); anything else is said.
  const unusual = problem !== null && problem !== MESSAGE_TEXT_PROBLEMS.blank && !over ? problem : null;
  const canSend = problem === null;
  const showCounter = length >= COUNTER_FROM;

  const editingSeq = editing?.seq ?? null;
  const editingText = editing?.text ?? '';
  useEffect(() => {
    if (editingSeq === null) {
      if (draft.current !== null) setText(draft.current);
      draft.current = null;
      return;
    }
    // Switching from one edit to another keeps the original draft.
    if (draft.current === null) draft.current = textRef.current;
    setText(editingText);
    caretToEnd.current = true;
    inputRef.current?.focus();
  }, [editingSeq, editingText]);

  const replySeq = replyingTo?.seq ?? null;
  useEffect(() => {
    if (replySeq !== null) inputRef.current?.focus();
  }, [replySeq]);

  useLayoutEffect(() => {
    const input = inputRef.current;
    if (!caretToEnd.current || !input) return;
    caretToEnd.current = false;
    input.setSelectionRange(input.value.length, input.value.length);
  });

  const submit = () => {
    if (!canSend) return;
    if (editing) {
      // Saving the same text is no edit at all.
      if (normalized === editing.text) props.onCancelEdit();
      else props.onSaveEdit(editing.seq, normalized);
      return;
    }
    onSend(normalized);
    setText('');
    lastTyping.current = 0;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME candidate (Japanese, Chinese…) must not send.
    if (event.nativeEvent.isComposing) return;
    // While members are offered after `@`, Enter, Tab, the arrows and Escape belong to that list.
    if (mention.onKeyDown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && (editing || replyingTo)) {
      event.preventDefault();
      if (editing) props.onCancelEdit();
      else props.onCancelReply();
    } else if (
      event.key === 'ArrowUp' &&
      text === '' &&
      !editing &&
      !event.shiftKey &&
      !event.altKey &&
      !event.ctrlKey &&
      !event.metaKey
    ) {
      if (props.onEditLast()) event.preventDefault();
    }
  };

  const onChange = (value: string) => {
    setText(value);
    mention.readCaret();
    const now = Date.now();
    if (!editing && value.trim() !== '' && now - lastTyping.current >= TYPING_EVERY_MS) {
      lastTyping.current = now;
      onTyping();
    }
  };

  const context = editing || replyingTo ? 'composer-context' : '';

  return (
    <form
      className={editing ? 'composer composer--editing' : 'composer'}
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        submit();
      }}
    >
      {editing ? (
        <div className="composer__context">
          <span id="composer-context">Editing your message</span>
          <button type="button" className="button button--small button--quiet" onClick={props.onCancelEdit}>
            Cancel editing
          </button>
        </div>
      ) : replyingTo ? (
        <div className="composer__context">
          <span id="composer-context">
            Replying to <strong>{replyingTo.author}</strong>
          </span>
          <button type="button" className="button button--small button--quiet" onClick={props.onCancelReply}>
            Cancel reply
          </button>
        </div>
      ) : null}
      <label htmlFor="composer-text" className="visually-hidden">
        Message
      </label>
      {mention.popup}
      <textarea
        {...mention.inputProps}
        ref={inputRef}
        id="composer-text"
        className="composer__input"
        rows={1}
        placeholder={`Write to #${room}`}
        value={text}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={[
          context,
          'composer-hint',
          showCounter ? 'composer-counter' : '',
          unusual ? 'composer-problem' : '',
        ]
          .filter(Boolean)
          .join(' ')}
        aria-invalid={over || unusual !== null || undefined}
        enterKeyHint={editing ? 'done' : 'send'}
      />
      <button type="submit" className="button button--primary composer__send" disabled={!canSend}>
        {editing ? 'Save' : 'Send'}
      </button>
      <div className="composer__footer">
        <span id="composer-hint" className="composer__hint">
          {editing
            ? 'Enter to save · Escape to cancel'
            : 'Enter to send · Shift+Enter for a new line · Up arrow to edit your last message'}
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
