import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useTRPC } from '../../lib/trpc.ts';

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** The existing rooms, most recently active first, a page at a time; each one is a link into it. */
export function RoomDirectory({ signedIn }: { signedIn: boolean }) {
  const trpc = useTRPC();
  const rooms = useInfiniteQuery({
    ...trpc.rooms.list.infiniteQueryOptions({}, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
    enabled: signedIn,
    refetchInterval: 15_000,
  });
  // A room that became active between two pages can appear on both: keep its first (newer) place.
  const seen = new Set<string>();
  const list = (rooms.data?.pages.flatMap((page) => page.rooms) ?? []).filter(
    (room) => !seen.has(room.name) && seen.add(room.name),
  );

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
      ) : list.length === 0 ? (
        <p className="muted">No rooms yet. Name one above to create it.</p>
      ) : (
        <ul className="room-directory__list">
          {list.map((room) => (
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
    </section>
  );
}
