import { type ReactNode, useEffect, useRef } from 'react';

interface RoomsDrawerProps {
  onClose: () => void;
  children: ReactNode;
}

/**
 * The room list on a narrow screen: a modal <dialog> sliding in from the left, so the rest of the
 * page is inert, focus stays inside and Escape closes it; so do Close and a tap beside it. Open it
 * by rendering it; focus goes back to the opener when it closes.
 */
export function RoomsDrawer({ onClose, children }: RoomsDrawerProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    opener.current = document.activeElement;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      const previous = opener.current;
      if (previous instanceof HTMLElement && previous.isConnected) previous.focus({ preventScroll: true });
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="drawer"
      aria-label="Rooms"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        // A click on the dialog element itself landed on the backdrop, beside the panel.
        if (event.target === event.currentTarget) onClose();
      }}
      onKeyDown={() => {}}
    >
      <div className="drawer__panel">
        <button type="button" className="button button--small drawer__close" onClick={onClose}>
          Close
        </button>
        {children}
      </div>
    </dialog>
  );
}
