import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import type { Member, Message, UserCount } from '../../lib/api-types.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** After a burst of arrivals, counts are re-read from the server once it has been quiet this long. */
const RECONCILE_AFTER_MS = 2_000;

export interface MemberRow {
  username: string;
  online: boolean;
  /** Messages sent in this room. */
  here: number;
  /** Messages sent across all rooms. */
  overall: number;
}

/**
 * Members and message counts for the room. Counts move up the moment a message arrives (from the
 * live stream or our own post) and are re-read from the server shortly after, so they stay exact
 * even for messages sent in other rooms.
 */
export function useRoomStats(room: string, online: readonly string[] | null) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.rooms.members.queryOptions({ room }));
  const overall = useQuery(trpc.stats.users.queryOptions(undefined));
  const membersKey = useMemo(() => trpc.rooms.members.queryKey({ room }), [trpc, room]);
  const overallKey = useMemo(() => trpc.stats.users.queryKey(undefined), [trpc]);
  const reconcileTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const reconcile = useCallback(() => {
    clearTimeout(reconcileTimer.current);
    reconcileTimer.current = setTimeout(() => {
      void queryClient.invalidateQueries({ queryKey: membersKey });
      void queryClient.invalidateQueries({ queryKey: overallKey });
    }, RECONCILE_AFTER_MS);
  }, [queryClient, membersKey, overallKey]);

  useEffect(() => () => clearTimeout(reconcileTimer.current), []);

  const countArrivals = useCallback(
    (messages: readonly Message[]) => {
      const byAuthor = new Map<string, number>();
      for (const message of messages) byAuthor.set(message.author, (byAuthor.get(message.author) ?? 0) + 1);
      queryClient.setQueryData(membersKey, (data) =>
        data ? { users: data.users.map((user: Member) => bump(user, byAuthor)) } : data,
      );
      queryClient.setQueryData(overallKey, (data) => {
        if (!data) return data;
        const known = new Set(data.users.map((user) => user.username));
        const added: UserCount[] = [...byAuthor]
          .filter(([author]) => !known.has(author))
          .map(([author, count]) => ({ username: author, messageCount: count }));
        return { users: [...data.users.map((user: UserCount) => bump(user, byAuthor)), ...added] };
      });
      reconcile();
    },
    [queryClient, membersKey, overallKey, reconcile],
  );

  // Someone new is online or wrote: they joined after the member list was read.
  const memberNames = useMemo(() => new Set(members.data?.users.map((user) => user.username)), [members.data]);
  useEffect(() => {
    if (!members.data || !online) return;
    if (online.some((username) => !memberNames.has(username))) {
      void queryClient.invalidateQueries({ queryKey: membersKey });
    }
  }, [online, memberNames, members.data, queryClient, membersKey]);

  const rows = useMemo((): MemberRow[] => {
    const overallByName = new Map(overall.data?.users.map((user) => [user.username, user.messageCount]));
    const onlineNow = online ? new Set(online) : null;
    const list = (members.data?.users ?? []).map((member) => ({
      username: member.username,
      online: onlineNow ? onlineNow.has(member.username) : member.online,
      here: member.messageCount,
      overall: overallByName.get(member.username) ?? member.messageCount,
    }));
    return list.sort(
      (a, b) =>
        Number(b.online) - Number(a.online) || a.username.localeCompare(b.username, undefined, { sensitivity: 'base' }),
    );
  }, [members.data, overall.data, online]);

  const roomTotal = rows.reduce((sum, row) => sum + row.here, 0);

  return {
    rows,
    roomTotal,
    isLoading: members.isPending,
    isError: members.isError,
    countArrivals,
  };
}

function bump<T extends { username: string; messageCount: number }>(row: T, byAuthor: ReadonlyMap<string, number>): T {
  const extra = byAuthor.get(row.username);
  return extra ? { ...row, messageCount: row.messageCount + extra } : row;
}
