import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useTRPC } from '../../lib/trpc.ts';

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** The existing rooms, most recently active first; each one is a link into it. */
export function RoomDirectory({ signedIn }: { signedIn: boolean }) {
  const trpc = useTRPC();
  const rooms = useQuery({ ...trpc.rooms.list.queryOptions(), enabled: signedIn, refetchInterval: 15_000 });

  // A plain section with a heading (not a labelled region): "Rooms" must not compete with the
  // form's "Room" field for the name "Room".
  return (
    <section className="card room-directory">
      <h2>Rooms</h2>
      {!signedIn ? (
        <p className="muted">Once you are signed in, the rooms people are talking in are listed here.</p>
      ) : rooms.isPending ? (
        <p className="muted">Loading rooms…</p>
      ) : rooms.isError ? (
        <p className="muted">The list of rooms could not be loaded.</p>
      ) : rooms.data.rooms.length === 0 ? (
        <p className="muted">No rooms yet. Name one above to create it.</p>
      ) : (
        <ul className="room-directory__list">
          {rooms.data.rooms.map((room) => (
            <li key={room.name}>
              <Link to={`/rooms/${encodeURIComponent(room.name)}`} className="room-link">
                <span className="room-link__name">#{room.name}</span>
                <span className="room-link__counts">
                  {plural(room.messageCount, 'message', 'messages')} · {plural(room.memberCount, 'member', 'members')}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
