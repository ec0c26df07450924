import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { MAX_LIST_LIMIT } from '../../../../shared/rules.ts';
import type { Member, Message, UserCount } from '../../lib/api-types.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** After a burst of arrivals, counts are re-read from the server once it has been quiet this long. */
const RECONCILE_AFTER_MS = 2_000;

export interface MemberRow {
  username: string;
  online: boolean;
  /** Messages sent in this room. */
  here: number;
  /** Messages sent across all rooms; null when the member is not among the most active users read. */
  overall: number | null;
}

/** The largest page: a room's first MAX_LIST_LIMIT members, and as many of the most active users. */
const PAGE = { limit: MAX_LIST_LIMIT };

/**
 * Members and message counts for the room. Counts move up the moment a message arrives (from the
 * live stream or our own post), down when one is deleted, and are re-read from the server shortly
 * after, so they stay exact even for messages sent in other rooms.
 */
export function useRoomStats(room: string, online: readonly string[] | null) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.rooms.members.queryOptions({ room, ...PAGE }));
  const overall = useQuery(trpc.stats.users.queryOptions(PAGE));
  const membersKey = useMemo(() => trpc.rooms.members.queryKey({ room, ...PAGE }), [trpc, room]);
  const overallKey = useMemo(() => trpc.stats.users.queryKey(PAGE), [trpc]);
  const reconcileTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const reconcile = useCallback(() => {
    clearTimeout(reconcileTimer.current);
    reconcileTimer.current = setTimeout(() => {
      void queryClient.invalidateQueries({ queryKey: membersKey });
      void queryClient.invalidateQueries({ queryKey: overallKey });
    }, RECONCILE_AFTER_MS);
  }, [queryClient, membersKey, overallKey]);

  useEffect(() => () => clearTimeout(reconcileTimer.current), []);

  /** Arrivals count +1 for their author, deletions -1 (a deleted message no longer counts). */
  const count = useCallback(
    (messages: readonly Message[], step: 1 | -1) => {
      const byAuthor = new Map<string, number>();
      for (const message of messages) byAuthor.set(message.author, (byAuthor.get(message.author) ?? 0) + step);
      queryClient.setQueryData(membersKey, (data) =>
        data ? { ...data, users: data.users.map((user: Member) => bump(user, byAuthor)) } : data,
      );
      queryClient.setQueryData(overallKey, (data) => {
        if (!data) return data;
        const users = data.users.map((user: UserCount) => bump(user, byAuthor));
        // Someone missing from a complete list had sent nothing before; from a partial one, it is
        // unknown what they had sent, so they stay unknown until the next read.
        if (data.hasMore) return { ...data, users };
        const known = new Set(data.users.map((user) => user.username));
        const added: UserCount[] = [...byAuthor]
          .filter(([author, extra]) => !known.has(author) && extra > 0)
          .map(([author, extra]) => ({ username: author, messageCount: extra }));
        return { ...data, users: [...users, ...added] };
      });
      reconcile();
    },
    [queryClient, membersKey, overallKey, reconcile],
  );
  const countArrivals = useCallback((messages: readonly Message[]) => count(messages, 1), [count]);
  const countDeletions = useCallback((messages: readonly Message[]) => count(messages, -1), [count]);

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
    const overallComplete = overall.data !== undefined && !overall.data.hasMore;
    const onlineNow = online ? new Set(online) : null;
    const list = (members.data?.users ?? []).map((member) => ({
      username: member.username,
      online: onlineNow ? onlineNow.has(member.username) : member.online,
      here: member.messageCount,
      overall: overallByName.get(member.username) ?? (overallComplete ? member.messageCount : null),
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
    /** The room has more members than the first page shows. */
    moreMembers: members.data?.hasMore ?? false,
    isLoading: members.isPending,
    isError: members.isError,
    countArrivals,
    countDeletions,
  };
}

function bump<T extends { username: string; messageCount: number }>(row: T, byAuthor: ReadonlyMap<string, number>): T {
  const extra = byAuthor.get(row.username);
  return extra ? { ...row, messageCount: row.messageCount + extra } : row;
}
