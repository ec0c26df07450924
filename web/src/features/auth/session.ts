import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import { sessionExpired } from '../../lib/auth-events.ts';
import { isUnauthorized } from '../../lib/errors.ts';
import { resetLiveConnection, useTRPCClient } from '../../lib/trpc.ts';

export interface SessionUser {
  username: string;
}

const sessionQueryKey = ['session'] as const;

/**
 * Who is signed in: the user, or null when there is no valid session. auth.me answering 401 is
 * the normal "signed out" answer here, not an error.
 */
export function useSession() {
  const client = useTRPCClient();
  return useQuery({
    queryKey: sessionQueryKey,
    queryFn: async (): Promise<SessionUser | null> => {
      try {
        return (await client.auth.me.query()).user;
      } catch (error) {
        if (isUnauthorized(error)) return null;
        throw error;
      }
    },
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Whether the session is known to have ended (signed out, or a 401): requests now would only fail. */
export function isSignedOut(queryClient: QueryClient): boolean {
  return queryClient.getQueryData(sessionQueryKey) === null;
}

/** Records a new session (after sign-in or sign-up) or its end (null). */
export function useSetSession() {
  const queryClient = useQueryClient();
  return useCallback(
    (user: SessionUser | null) => {
      // The live socket authenticated as whoever was signed in when it opened.
      resetLiveConnection();
      if (user === null) {
        // Everything cached belonged to the old session.
        queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionQueryKey[0] });
      }
      queryClient.setQueryData<SessionUser | null>(sessionQueryKey, user);
    },
    [queryClient],
  );
}

/**
 * Any 401 ends the session here too. Pages react to the session becoming null: the room page
 * redirects to the join page with its room filled in.
 */
export function useEndSessionOnUnauthorized(): void {
  const setSession = useSetSession();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      sessionExpired.subscribe(() => {
        if (queryClient.getQueryData(sessionQueryKey) !== null) setSession(null);
      }),
    [setSession, queryClient],
  );
}
