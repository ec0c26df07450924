import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef } from 'react';
import { Link } from 'react-router';
import type { MyRoom } from '../../lib/api-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { roomPath } from './room-path.ts';

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

interface BrowseRoomsDialogProps {
  /** My rooms, to mark the ones I am in. */
  mine: readonly MyRoom[] | null;
  onClose: () => void;
  onNavigate: () => void;
}

/**
 * Every room on the server with its message and member counts (rooms.list, most recently active
 * first, a page at a time), in a modal <dialog>: Escape or Close ends it, focus comes back to the
 * button that opened it.
 */
export function BrowseRoomsDialog({ mine, onClose, onNavigate }: BrowseRoomsDialogProps) {
  const trpc = useTRPC();
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);
  const rooms = useInfiniteQuery(
    trpc.rooms.list.infiniteQueryOptions({}, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  const joined = new Set(mine?.map((room) => room.name));
  // A room that became active between two pages can appear on both: keep its first (newer) place.
  const seen = new Set<string>();
  const list = (rooms.data?.pages.flatMap((page) => page.rooms) ?? []).filter(
    (room) => !seen.has(room.name) && seen.add(room.name),
  );

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    opener.current = document.activeElement;
    if (!dialog.open) dialog.showModal();
    closeRef.current?.focus();
    return () => {
      if (dialog.open) dialog.close();
    };
  }, []);

  const close = () => {
    ref.current?.close();
    const previous = opener.current;
    if (previous instanceof HTMLElement && previous.isConnected) previous.focus();
    onClose();
  };

  return (
    <dialog
      ref={ref}
      className="dialog browse-rooms"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        close();
      }}
    >
      <div className="browse-rooms__head">
        <h2 id={titleId} className="dialog__title">
          All rooms
        </h2>
        <button ref={closeRef} type="button" className="button button--small" onClick={close}>
          Close
        </button>
      </div>
      {rooms.isPending ? (
        <p className="muted">Loading rooms…</p>
      ) : rooms.isError ? (
        <p className="inline-error">The list of rooms could not be loaded.</p>
      ) : list.length === 0 ? (
        <p className="muted">No rooms yet.</p>
      ) : (
        <ul className="room-directory__list" aria-labelledby={titleId}>
          {list.map((room) => (
            <li key={room.name}>
              <Link to={roomPath(room.name)} className="room-link" onClick={onNavigate}>
                <span className="room-link__name">
                  #{room.name}
                  {joined.has(room.name) ? <span className="muted room-link__joined"> · joined</span> : null}
                </span>
                <span className="room-link__counts">
                  {plural(room.messageCount, 'message', 'messages')} · {plural(room.memberCount, 'member', 'members')}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {rooms.hasNextPage ? (
        <button
          type="button"
          className="button button--quiet"
          onClick={() => void rooms.fetchNextPage()}
          disabled={rooms.isFetchingNextPage}
        >
          {rooms.isFetchingNextPage ? 'Loading more rooms…' : 'Show more rooms'}
        </button>
      ) : null}
    </dialog>
  );
}
