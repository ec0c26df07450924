import { skipToken, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Message, RouterOutputs } from '../../lib/api-types.ts';
import { sessionExpired } from '../../lib/auth-events.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC, useTRPCClient } from '../../lib/trpc.ts';
import { Timeline, type TimelineSnapshot } from './timeline.ts';

type RoomEvent = RouterOutputs['rooms']['events'] extends AsyncIterable<infer Event> ? Event : never;

const PAGE_SIZE = 50;
/** Re-joining after a FORBIDDEN answer is tried at most this often, so a real refusal cannot loop. */
const REJOIN_INTERVAL_MS = 30_000;

export interface RoomLive {
  timeline: TimelineSnapshot;
  /** The first page of history: until it is here there is nothing to show. */
  status: 'loading' | 'ready' | 'error';
  loadError: string | null;
  retryLoad: () => void;
  loadingOlder: boolean;
  olderError: string | null;
  loadOlder: () => void;
  /** Who has the room open right now; null until the server said. */
  online: readonly string[] | null;
  typing: readonly string[];
  /** Set when live updates stopped for a reason reconnecting will not fix. */
  liveError: string | null;
  restartLive: () => void;
  /** For answers to our own posts: they count like any other arrival. */
  addMessages: (messages: readonly Message[]) => void;
}

/**
 * History and live events of one room, merged into one timeline.
 *
 * Flow: load the newest page over HTTP, then subscribe with lastEventId = the newest seq held, so
 * the server sends everything after it exactly once and then live messages. wsLink remembers the
 * id of each message event and resumes from it after a reconnect; the timeline drops anything it
 * already holds, so replays never show twice. A `reset` (too far behind) refetches the newest page.
 */
export function useRoomLive(room: string, onNewMessages: (messages: readonly Message[]) => void): RoomLive {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [timeline] = useState(() => new Timeline());
  const snapshot = useSyncExternalStore(timeline.subscribe, timeline.getSnapshot);
  const [status, setStatus] = useState<RoomLive['status']>('loading');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [subscribeFrom, setSubscribeFrom] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [online, setOnline] = useState<readonly string[] | null>(null);
  const [typing, setTyping] = useState<readonly string[]>([]);
  const [liveError, setLiveError] = useState<string | null>(null);
  const onNewRef = useRef(onNewMessages);
  onNewRef.current = onNewMessages;
  const olderInFlight = useRef(false);
  const lastRejoin = useRef(0);
  const transportRetries = useRef(0);
  /**
   * The seq the stream has delivered up to (event ids are the newest seq sent). Restarting the
   * subscription resumes from here, not from the newest message held: an answer to our own post
   * can be newer than messages the stream has not delivered yet.
   */
  const streamSeq = useRef<string | null>(null);
  const subscribeFromRef = useRef(subscribeFrom);
  subscribeFromRef.current = subscribeFrom;
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(retryTimer.current), []);

  const addMessages = useCallback(
    (messages: readonly Message[]) => {
      const fresh = timeline.add(messages);
      if (fresh.length > 0) onNewRef.current(fresh);
    },
    [timeline],
  );

  const loadNewest = useCallback(async () => {
    try {
      const page = await queryClient.fetchQuery({
        ...trpc.messages.list.queryOptions({ room, limit: PAGE_SIZE }),
        staleTime: 0,
      });
      timeline.replace(page.messages, page.hasMore);
      setStatus('ready');
      setLoadError(null);
      if (streamSeq.current === null) {
        streamSeq.current = String(page.messages.at(-1)?.seq ?? 0);
        setSubscribeFrom(streamSeq.current);
      }
    } catch (error) {
      const info = describeApiError(error);
      if (info.code === 'UNAUTHORIZED') return;
      setLoadError(info.message);
      setStatus((current) => (current === 'ready' ? current : 'error'));
    }
  }, [queryClient, trpc, room, timeline]);

  useEffect(() => {
    void loadNewest();
  }, [loadNewest]);

  const loadOlder = useCallback(async () => {
    const before = timeline.oldestSeq();
    if (before === null || !timeline.getSnapshot().hasOlder || olderInFlight.current) return;
    olderInFlight.current = true;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const page = await queryClient.fetchQuery({
        ...trpc.messages.list.queryOptions({ room, before, limit: PAGE_SIZE }),
        staleTime: Number.POSITIVE_INFINITY,
      });
      timeline.prepend(page.messages, page.hasMore);
    } catch (error) {
      setOlderError(describeApiError(error).message);
    } finally {
      olderInFlight.current = false;
      setLoadingOlder(false);
    }
  }, [queryClient, trpc, room, timeline]);

  // Every event arrives tracked, as { id: newest seq sent, data }: wsLink resumes from that id.
  const onEvent = (envelope: RoomEvent) => {
    streamSeq.current = envelope.id;
    const event = envelope.data;
    switch (event.type) {
      case 'message':
        addMessages([event.message]);
        break;
      case 'presence':
        setOnline(event.online);
        break;
      case 'typing':
        setTyping(event.usernames);
        break;
      case 'reset':
        void loadNewest();
        break;
    }
  };

  const subscription = useSubscription(
    trpc.rooms.events.subscriptionOptions(subscribeFrom === null ? skipToken : { room, lastEventId: subscribeFrom }, {
      // Also after every reconnect: the server sends presence and typing afresh then.
      onStarted: () => {
        transportRetries.current = 0;
        setTyping([]);
        setLiveError(null);
      },
      onData: onEvent,
      onError: (error) => {
        const info = describeApiError(error);
        if (info.code === 'UNAUTHORIZED') {
          sessionExpired.emit();
          return;
        }
        if (info.code === 'FORBIDDEN' && Date.now() - lastRejoin.current > REJOIN_INTERVAL_MS) {
          // Membership is what the subscription checks; it can only be missing if the page
          // opened before joining finished or the server lost it. Join again and resubscribe.
          lastRejoin.current = Date.now();
          client.rooms.join.mutate({ room }).then(
            () => restartStream(),
            (joinError: unknown) => setLiveError(describeApiError(joinError).message),
          );
          return;
        }
        if (info.code === null) {
          // No answer from the server at all (e.g. the socket closed just as the subscription was
          // sent): wsLink gives up on that subscription, so start it again, backing off.
          const delay = Math.min(1_000 * 2 ** transportRetries.current, 10_000);
          transportRetries.current += 1;
          clearTimeout(retryTimer.current);
          retryTimer.current = setTimeout(() => restartStream(), delay);
          return;
        }
        setLiveError(info.message);
      },
    }),
  );

  function restartStream() {
    const from = streamSeq.current;
    if (from !== null && from !== subscribeFromRef.current) setSubscribeFrom(from);
    else subscription.reset();
  }

  return {
    timeline: snapshot,
    status,
    loadError,
    retryLoad: () => void loadNewest(),
    loadingOlder,
    olderError,
    loadOlder: () => void loadOlder(),
    online,
    typing,
    liveError,
    restartLive: () => {
      setLiveError(null);
      restartStream();
    },
    addMessages,
  };
}
