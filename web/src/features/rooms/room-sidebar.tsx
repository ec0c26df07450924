import { type FormEvent, lazy, Suspense, useId, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { isValidRoomName, normalizeRoomName, ROOM_NAME_RULE } from '../../../../shared/rules.ts';
import type { MyRoom } from '../../lib/api-types.ts';
import { importWithRetry } from '../../lib/import-with-retry.ts';
import { SignOutButton } from '../auth/sign-out-button.tsx';
import { roomPath } from './room-path.ts';

// Browsing every room is occasional: its dialog loads when first opened.
const BrowseRoomsDialog = lazy(() =>
  importWithRetry(() => import('./browse-rooms-dialog.tsx')).then((module) => ({
    default: module.BrowseRoomsDialog,
  })),
);

/** Counts stop at 1000 on the server (UNREAD_COUNT_CAP): shown as "999+". */
export function countLabel(count: number): string {
  return count > 999 ? '999+' : String(count);
}

interface RoomSidebarProps {
  me: string;
  /** The room open now (it may not be in `rooms` yet, just after joining). */
  current: string;
  rooms: readonly MyRoom[] | null;
  isError: boolean;
  onLeave: (room: string) => void;
  leaveError: string | null;
  /** A room was chosen (the drawer closes on a phone). */
  onNavigate?: () => void;
}

/**
 * My rooms with unread and mention badges, then ways to get elsewhere: join or create a room by
 * name, browse all rooms, leave this one; and who is signed in. The open room shows no badge: its
 * messages are read as they arrive (and the title counts them while the tab is in the background).
 */
export function RoomSidebar({ me, current, rooms, isError, onLeave, leaveError, onNavigate }: RoomSidebarProps) {
  const headingId = useId();
  const [browsing, setBrowsing] = useState(false);
  return (
    <div className="rooms-nav">
      <Link to="/" className="wordmark wordmark--small rooms-nav__wordmark">
        atlas-chat
      </Link>
      <h2 id={headingId} className="rooms-nav__heading">
        My rooms
      </h2>
      {rooms === null ? (
        <p className="muted rooms-nav__note">{isError ? 'Your rooms could not be loaded.' : 'Loading your rooms…'}</p>
      ) : rooms.length === 0 ? (
        <p className="muted rooms-nav__note">You are in no room yet.</p>
      ) : (
        <ul className="my-rooms" aria-labelledby={headingId}>
          {rooms.map((room) => (
            <li key={room.name}>
              <RoomLink room={room} current={room.name === current} onNavigate={onNavigate} />
            </li>
          ))}
        </ul>
      )}
      <JoinRoomForm onNavigate={onNavigate} />
      <div className="rooms-nav__actions">
        <button type="button" className="button button--quiet button--small" onClick={() => setBrowsing(true)}>
          Browse all rooms
        </button>
        <button type="button" className="button button--quiet button--small" onClick={() => onLeave(current)}>
          Leave #{current}
        </button>
      </div>
      {leaveError ? (
        <p className="inline-error rooms-nav__note" role="alert">
          {leaveError}
        </p>
      ) : null}
      <div className="rooms-nav__account">
        <span className="muted">
          Signed in as <strong>{me}</strong>
        </span>
        <SignOutButton className="button button--quiet button--small" />
      </div>
      {browsing ? (
        <Suspense fallback={null}>
          <BrowseRoomsDialog
            mine={rooms}
            onClose={() => setBrowsing(false)}
            onNavigate={() => {
              setBrowsing(false);
              onNavigate?.();
            }}
          />
        </Suspense>
      ) : null}
    </div>
  );
}

function RoomLink({ room, current, onNavigate }: { room: MyRoom; current: boolean; onNavigate?: () => void }) {
  const unread = current ? 0 : room.unreadCount;
  const mentions = current ? 0 : room.mentionCount;
  const classes = ['my-room'];
  if (current) classes.push('my-room--current');
  if (unread > 0) classes.push('my-room--unread');
  return (
    <Link
      to={roomPath(room.name)}
      className={classes.join(' ')}
      aria-current={current ? 'page' : undefined}
      data-room={room.name}
      onClick={onNavigate}
    >
      {/* A long name is cut short with an ellipsis: the title shows it whole on hover. */}
      <span className="my-room__name" title={`#${room.name}`}>
        #{room.name}
      </span>
      {mentions > 0 ? (
        // The name reads "#general, 1 mention, 2 unread": built from what is shown (not an
        // aria-label), so the visible text stays part of it (WCAG 2.5.3).
        <span className="badge badge--mention" data-badge="mentions">
          <span className="visually-hidden">, </span>
          <span aria-hidden="true">@</span>
          {countLabel(mentions)}
          <span className="visually-hidden">{mentions === 1 ? ' mention' : ' mentions'}</span>
        </span>
      ) : null}
      {unread > 0 ? (
        <span className="badge" data-badge="unread">
          <span className="visually-hidden">, </span>
          {countLabel(unread)}
          <span className="visually-hidden"> unread</span>
        </span>
      ) : null}
    </Link>
  );
}

/** Goes to `/rooms/<name>`; the room page joins it, creating it when it does not exist yet. */
function JoinRoomForm({ onNavigate }: { onNavigate?: () => void }) {
  const navigate = useNavigate();
  const inputId = useId();
  const errorId = useId();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!isValidRoomName(name)) {
      setError(`Room names are ${ROOM_NAME_RULE}.`);
      return;
    }
    setError(null);
    setName('');
    onNavigate?.();
    void navigate(roomPath(normalizeRoomName(name)));
  };
  return (
    <form className="join-room" onSubmit={submit} noValidate>
      <label htmlFor={inputId} className="join-room__label">
        Join or create a room
      </label>
      <div className="join-room__row">
        <input
          id={inputId}
          className="join-room__input"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="room-name"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error !== null || undefined}
          aria-describedby={error ? errorId : undefined}
        />
        <button type="submit" className="button button--small">
          Go
        </button>
      </div>
      {error ? (
        <p id={errorId} className="join-room__error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
