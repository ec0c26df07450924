import { useQuery } from '@tanstack/react-query';
import { type KeyboardEvent, type RefObject, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { MAX_LIST_LIMIT } from '../../../../shared/rules.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { insertMention, matchMembers, mentionQueryAt } from './mention-query.ts';
import './mentions.css';

/** Suggestions shown at once; typing more narrows them. */
const MAX_SUGGESTIONS = 8;
const LISTBOX_ID = 'mention-suggestions';
const optionId = (index: number) => `mention-option-${index}`;

interface MentionAutocompleteOptions {
  room: string;
  me: string;
  text: string;
  setText: (text: string) => void;
  inputRef: RefObject<HTMLTextAreaElement | null>;
}

/**
 * Typing `@` in the composer offers the room's members: Up and Down move, Enter or Tab picks,
 * Escape closes. The textarea keeps the focus; the choice is announced through
 * aria-activedescendant on it and a polite status line.
 *
 * Members are the room's first MAX_LIST_LIMIT, read with the same query as the members panel, so
 * no extra request is made.
 */
export function useMentionAutocomplete({ room, me, text, setText, inputRef }: MentionAutocompleteOptions) {
  const trpc = useTRPC();
  const members = useQuery(trpc.rooms.members.queryOptions({ room, limit: MAX_LIST_LIMIT }));
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  /** Escape closes the list until another mention is started (at another `@`). */
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const pendingCaret = useRef<number | null>(null);

  const mention = caret === null ? null : mentionQueryAt(text, caret);
  const usernames = useMemo(
    () => (members.data?.users ?? []).map((user) => user.username).filter((name) => name !== me),
    [members.data, me],
  );
  const suggestions =
    mention && mention.start !== dismissedAt ? matchMembers(usernames, mention.query, MAX_SUGGESTIONS) : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, suggestions.length - 1);
  // A different word typed: start again from the best match (state derived while rendering).
  const queryKey = mention ? `${mention.start}:${mention.query}` : '';
  const [activeFor, setActiveFor] = useState(queryKey);
  if (activeFor !== queryKey) {
    setActiveFor(queryKey);
    setActive(0);
  }

  useLayoutEffect(() => {
    const input = inputRef.current;
    if (pendingCaret.current === null || !input) return;
    input.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  });

  const readCaret = () => {
    const input = inputRef.current;
    setCaret(input && input.selectionStart === input.selectionEnd ? input.selectionStart : null);
  };

  const pick = (username: string) => {
    if (!mention || caret === null) return;
    const next = insertMention(text, caret, mention, username);
    setText(next.text);
    setCaret(next.caret);
    pendingCaret.current = next.caret;
    inputRef.current?.focus();
  };

  /** Handles the key when the list is open; returns true when it did (the composer then ignores it). */
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (!open || event.altKey || event.ctrlKey || event.metaKey) return false;
    const chosen = suggestions[activeIndex];
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((activeIndex + step + suggestions.length) % suggestions.length);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey && chosen) {
      pick(chosen);
    } else if (event.key === 'Escape' && mention) {
      setDismissedAt(mention.start);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  const inputProps = {
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? LISTBOX_ID : undefined,
    'aria-activedescendant': open ? optionId(activeIndex) : undefined,
    onSelect: readCaret,
  };

  const popup = (
    <>
      {open ? (
        <div id={LISTBOX_ID} className="mention-suggestions" role="listbox" aria-label="Members to mention">
          {suggestions.map((username, index) => (
            // The options are not focusable on purpose: the focus stays in the textarea, which points at
            // the active one with aria-activedescendant and handles the keys (combobox pattern).
            // biome-ignore lint/a11y/useFocusableInteractive: see above
            // biome-ignore lint/a11y/useKeyWithClickEvents: see above
            <div
              key={username}
              id={optionId(index)}
              role="option"
              aria-selected={index === activeIndex}
              className={
                index === activeIndex ? 'mention-suggestions__option is-active' : 'mention-suggestions__option'
              }
              // Keeps the focus (and the caret) in the textarea.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => pick(username)}
            >
              @{username}
            </div>
          ))}
        </div>
      ) : null}
      {/* Not role="status": the page has one status line (the connection), and tests find it by role. */}
      <span className="visually-hidden" aria-live="polite">
        {open
          ? `${suggestions.length} member${suggestions.length === 1 ? '' : 's'} to mention. Up and down to choose, Enter or Tab to pick.`
          : ''}
      </span>
    </>
  );

  return { open, onKeyDown, inputProps, popup, readCaret };
}
