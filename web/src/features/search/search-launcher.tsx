import { lazy, Suspense, useEffect, useState } from 'react';
import { importWithRetry } from '../../lib/import-with-retry.ts';

const loadDialog = () => importWithRetry(() => import('./search-dialog.tsx'));
const SearchDialog = lazy(loadDialog);
/** Fetch ahead of need; a failure is harmless (opening the dialog imports it again). */
const preload = () => {
  loadDialog().catch(() => {});
};
/** The dialog's chunk (2 KiB gzipped) is fetched this long after the room page shows. */
const PRELOAD_AFTER_MS = 2_000;

/** Whether a key typed there is text: `/` opens search only outside such places. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * The Search button, and its shortcuts: Ctrl+K (⌘K on a Mac) anywhere, `/` outside a text field.
 * The dialog itself is code-split: it is fetched shortly after the page shows (or at once when the
 * button is hovered or focused), so it is there by the time it opens.
 */
export function SearchLauncher({ room }: { room: string | null }) {
  const [open, setOpen] = useState(false);

  // Fetched once the page has settled, so keys typed right after Ctrl+K land in the search box
  // rather than wherever the focus was while the dialog loaded.
  useEffect(() => {
    const timer = setTimeout(preload, PRELOAD_AFTER_MS);
    return () => clearTimeout(timer);
  }, []);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      const ctrlK =
        (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k';
      const slash =
        event.key === '/' && !event.ctrlKey && !event.metaKey && !event.altKey && !isTypingTarget(event.target);
      // Another modal dialog (a delete confirmation) keeps the keyboard.
      if (!(ctrlK || slash) || document.querySelector('dialog[open]:not(.search-dialog)')) return;
      event.preventDefault();
      setOpen(true);
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  return (
    <>
      <button
        type="button"
        className="button button--quiet tool-button"
        aria-keyshortcuts="Control+K /"
        onClick={() => setOpen(true)}
        onPointerEnter={preload}
        onFocus={preload}
      >
        <svg className="tool-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
          <path
            d="M10.5 3a7.5 7.5 0 0 1 5.96 12.05l4.25 4.24-1.42 1.42-4.24-4.25A7.5 7.5 0 1 1 10.5 3Zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11Z"
            fill="currentColor"
          />
        </svg>
        <span className="tool-button__label">Search</span>
      </button>
      {open ? (
        <Suspense fallback={null}>
          <SearchDialog room={room} onClose={() => setOpen(false)} />
        </Suspense>
      ) : null}
    </>
  );
}
