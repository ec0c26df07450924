import type { KeyboardEvent } from 'react';

interface MessageActionBarProps {
  own: boolean;
  pickerOpen: boolean;
  onReact: () => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
}

/** Left and Right move between the buttons, as in any toolbar. */
function onArrowKeys(event: KeyboardEvent<HTMLDivElement>) {
  if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
  const focused = document.activeElement;
  if (!(focused instanceof HTMLButtonElement)) return;
  const buttons = [...event.currentTarget.querySelectorAll('button')];
  const index = buttons.indexOf(focused);
  if (index === -1) return;
  event.preventDefault();
  const step = event.key === 'ArrowRight' ? 1 : -1;
  buttons[(index + step + buttons.length) % buttons.length]?.focus();
}

/**
 * What can be done with a message (MessageItem decides when it shows). Every button is a tab stop,
 * so no one needs to know the arrow keys.
 */
export function MessageActionBar({ own, pickerOpen, onReact, onReply, onEdit, onDelete }: MessageActionBarProps) {
  return (
    <div className="message__actions" role="toolbar" aria-label="Message actions" onKeyDown={onArrowKeys}>
      <button type="button" className="message__action" aria-expanded={pickerOpen} onClick={onReact}>
        React
      </button>
      <button type="button" className="message__action" onClick={onReply}>
        Reply
      </button>
      {own ? (
        <>
          <button type="button" className="message__action" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="message__action message__action--danger" onClick={onDelete}>
            Delete
          </button>
        </>
      ) : null}
    </div>
  );
}
