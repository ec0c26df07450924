import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { type EmojiChoice, searchEmoji, singleEmoji } from './emoji-list.ts';

interface EmojiPickerProps {
  onPick: (emoji: string) => void;
  /** Escape, or a click outside its message (focus is then where the click put it). */
  onClose: (reason: 'escape' | 'outside') => void;
}

/**
 * Common emoji plus a search by name. Opens with the focus in the search field; Enter picks the
 * first match, Escape or a click elsewhere closes. An emoji typed or pasted into the search that is
 * not among the common ones is offered too.
 */
export function EmojiPicker({ onPick, onClose }: EmojiPickerProps) {
  const [query, setQuery] = useState('');
  const rootRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const searchId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  const typed = singleEmoji(query);
  const matches = searchEmoji(query);
  const choices: readonly EmojiChoice[] =
    typed && !matches.some((choice) => choice.emoji === typed)
      ? [{ emoji: typed, name: typed, keywords: '' }, ...matches]
      : matches;

  useEffect(() => {
    inputRef.current?.focus();
    // A click elsewhere closes it; one inside its own message does not, so its React button toggles.
    const message = rootRef.current?.closest('li') ?? rootRef.current;
    const onPointerDown = (event: PointerEvent) => {
      if (event.target instanceof Node && !message?.contains(event.target)) onCloseRef.current('outside');
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose('escape');
    }
  };

  return (
    <div ref={rootRef} className="emoji-picker" role="dialog" aria-label="Add a reaction" onKeyDown={onKeyDown}>
      <label htmlFor={searchId} className="visually-hidden">
        Search emoji
      </label>
      <input
        ref={inputRef}
        id={searchId}
        type="search"
        className="emoji-picker__search"
        placeholder="Search emoji"
        autoComplete="off"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          const first = choices[0];
          if (event.key === 'Enter' && first) {
            event.preventDefault();
            onPick(first.emoji);
          }
        }}
      />
      {choices.length > 0 ? (
        <ul className="emoji-picker__list">
          {choices.map((choice) => (
            <li key={choice.emoji}>
              <button
                type="button"
                className="emoji-picker__choice"
                aria-label={choice.name}
                title={choice.name}
                onClick={() => onPick(choice.emoji)}
              >
                {choice.emoji}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="emoji-picker__empty muted">No emoji match “{query.trim()}”.</p>
      )}
    </div>
  );
}
