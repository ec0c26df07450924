import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef } from 'react';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPCClient } from '../../lib/trpc.ts';
import { tabIsRead } from '../../lib/use-tab-read.ts';
import { isSignedOut } from '../auth/session.ts';

/** Sightings are gathered this long before one rooms.markRead goes out: never a request per message. */
export const MARK_READ_DELAY_MS = 1_000;

/**
 * The room's read marker, moved forward as messages are seen. `seen(seq)` says the message with
 * `seq` (and so every older one) has been on screen; it counts only while the tab is visible and
 * focused. At most one request per MARK_READ_DELAY_MS, only ever forward; a pending one goes out
 * at once when the room closes.
 */
export function useReadMarker(
  room: string,
  readSeqAtOpen: number | null,
  onMarked: (room: string, lastReadSeq: number) => void,
): { seen: (seq: number) => void } {
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  /** The highest seq sent (or known to the server already). */
  const sent = useRef(readSeqAtOpen ?? 0);
  const wanted = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onMarkedRef = useRef(onMarked);
  onMarkedRef.current = onMarked;

  useEffect(() => {
    if (readSeqAtOpen !== null && readSeqAtOpen > sent.current) sent.current = readSeqAtOpen;
  }, [readSeqAtOpen]);

  const flush = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    const seq = wanted.current;
    const before = sent.current;
    // Signing out closes the room too: too late to send anything.
    if (seq <= before || isSignedOut(queryClient)) return;
    sent.current = seq;
    client.rooms.markRead.mutate({ room, seq }).then(
      (answer) => onMarkedRef.current(room, answer.lastReadSeq),
      (error: unknown) => {
        // Not a member any more (left meanwhile) will not change; a lost request may be tried again.
        if (describeApiError(error).code === null && sent.current === seq) sent.current = before;
      },
    );
  }, [client, queryClient, room]);

  const seen = useCallback(
    (seq: number) => {
      if (!tabIsRead() || seq <= Math.max(sent.current, wanted.current)) return;
      wanted.current = seq;
      if (timer.current === undefined) timer.current = setTimeout(flush, MARK_READ_DELAY_MS);
    },
    [flush],
  );

  // Leaving the room (or the page) sends what was seen so far.
  useEffect(() => flush, [flush]);

  return { seen };
}
