import { skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MyRoom } from '../../lib/api-types.ts';
import { sessionExpired } from '../../lib/auth-events.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** Without the live stream (refused, or a server without it), the list is re-read this often. */
const POLL_WITHOUT_LIVE_MS = 15_000;

/**
 * `me.events` sends `{type: 'rooms', rooms}`, possibly wrapped as a tracked event `{id, data}`:
 * reads either shape, so this file does not depend on how the stream resumes.
 */
export function roomsOfEvent(event: unknown): MyRoom[] | null {
  if (typeof event !== 'object' || event === null) return null;
  const inner = 'data' in event && !('type' in event) ? (event as { data: unknown }).data : event;
  if (typeof inner !== 'object' || inner === null) return null;
  const { type, rooms } = inner as { type?: unknown; rooms?: unknown };
  return type === 'rooms' && Array.isArray(rooms) ? (rooms as MyRoom[]) : null;
}

export interface MyRooms {
  /** Most recent activity first, as the server orders them; null until first read. */
  rooms: readonly MyRoom[] | null;
  isError: boolean;
  /** Unread messages over all my rooms, except `exceptRoom` when given. */
  unreadTotal: (exceptRoom?: string) => number;
  /** After our own read marker moved: shows it at once, before the live stream confirms. */
  markedRead: (room: string, lastReadSeq: number) => void;
  /** After leaving: the room goes from the list at once. */
  removed: (room: string) => void;
  /** Reads the list afresh from the server (it also goes into the cache). */
  refresh: () => Promise<readonly MyRoom[]>;
}

/**
 * My rooms with their unread and mention counts (rooms.mine), kept live by the `me.events`
 * subscription, which sends the whole list whenever a count or marker changes: a new message, a
 * read in another tab or device, a join or a leave. That is how several tabs of one user agree.
 */
export function useMyRooms(enabled: boolean): MyRooms {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [liveDown, setLiveDown] = useState(false);
  const queryKey = useMemo(() => trpc.rooms.mine.queryKey(), [trpc]);
  const mine = useQuery({
    ...trpc.rooms.mine.queryOptions(),
    enabled,
    refetchInterval: liveDown ? POLL_WITHOUT_LIVE_MS : false,
  });
  const transportRetries = useRef(0);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(retryTimer.current), []);

  const subscription = useSubscription(
    trpc.me.events.subscriptionOptions(enabled ? undefined : skipToken, {
      // Also after every reconnect: whatever changed while the socket was down is read afresh.
      onStarted: () => {
        transportRetries.current = 0;
        setLiveDown(false);
        void queryClient.invalidateQueries({ queryKey });
      },
      onData: (event: unknown) => {
        const rooms = roomsOfEvent(event);
        if (rooms) queryClient.setQueryData(queryKey, { rooms });
      },
      onError: (error) => {
        const info = describeApiError(error);
        if (info.code === 'UNAUTHORIZED') {
          sessionExpired.emit();
          return;
        }
        setLiveDown(true);
        if (info.code === null) {
          // No answer at all (the socket closed as the subscription was sent): start it again.
          const delay = Math.min(1_000 * 2 ** transportRetries.current, 10_000);
          transportRetries.current += 1;
          clearTimeout(retryTimer.current);
          retryTimer.current = setTimeout(() => subscription.reset(), delay);
        }
      },
    }),
  );

  const rooms = mine.data?.rooms ?? null;
  const unreadTotal = useCallback(
    (exceptRoom?: string) =>
      (rooms ?? []).reduce((sum, room) => (room.name === exceptRoom ? sum : sum + room.unreadCount), 0),
    [rooms],
  );

  const markedRead = useCallback(
    (room: string, lastReadSeq: number) => {
      queryClient.setQueryData(queryKey, (data) => {
        if (!data) return data;
        return {
          rooms: data.rooms.map((row) => {
            if (row.name !== room || row.lastReadSeq >= lastReadSeq) return row;
            // Counts below the head are the server's to compute; at the head there is nothing left.
            const caughtUp = lastReadSeq >= row.lastSeq;
            return {
              ...row,
              lastReadSeq,
              unreadCount: caughtUp ? 0 : row.unreadCount,
              mentionCount: caughtUp ? 0 : row.mentionCount,
            };
          }),
        };
      });
    },
    [queryClient, queryKey],
  );

  const removed = useCallback(
    (room: string) => {
      queryClient.setQueryData(queryKey, (data) =>
        data ? { rooms: data.rooms.filter((row) => row.name !== room) } : data,
      );
    },
    [queryClient, queryKey],
  );

  const refresh = useCallback(
    async () => (await queryClient.fetchQuery({ ...trpc.rooms.mine.queryOptions(), staleTime: 0 })).rooms,
    [queryClient, trpc],
  );

  return { rooms, isError: mine.isError, unreadTotal, markedRead, removed, refresh };
}
