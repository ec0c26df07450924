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
/** Jumping to a message far back loads history in the largest pages the server gives. */
const JUMP_PAGE_SIZE = 100;
/** Re-joining after a FORBIDDEN answer is tried at most this often, so a real refusal cannot loop. */
const REJOIN_INTERVAL_MS = 30_000;

export interface RoomLive {
  timeline: TimelineSnapshot;
  /** The first page of history: until it is here there is nothing to show. */
  status: 'loading' | 'ready' | 'error';
  /**
   * The read marker when the room was opened (see RoomLiveOptions.readMarker): messages after it
   * were unread then. Null when unknown. Set before `status` becomes ready.
   */
  readSeqAtOpen: number | null;
  loadError: string | null;
  retryLoad: () => void;
  loadingOlder: boolean;
  olderError: string | null;
  loadOlder: () => void;
  /** Loads older history until the message with `seq` is held; says whether it is (false on error too). */
  loadUntil: (seq: number) => Promise<boolean>;
  /** Who has the room open right now; null until the server said. */
  online: readonly string[] | null;
  typing: readonly string[];
  /** Set when live updates stopped for a reason reconnecting will not fix. */
  liveError: string | null;
  restartLive: () => void;
  /** For answers to our own posts: they count like any other arrival. */
  addMessages: (messages: readonly Message[]) => void;
  /** The stream's position now: pass it to `applyAnswer` with the answer to a change started now. */
  mark: () => number;
  /** The server's answer to our own edit, delete or reaction (see Timeline.applyAnswer). */
  applyAnswer: (message: Message, since: number) => void;
  /** Shows an optimistic change until the returned function is called. */
  overlay: Timeline['overlay'];
}

export interface RoomLiveCallbacks {
  /** Messages that arrived (live, or answers to our posts), once each. */
  onNewMessages: (messages: readonly Message[]) => void;
  /** Messages that were deleted while held. */
  onDeleted: (messages: readonly Message[]) => void;
}

export interface RoomLiveOptions {
  /**
   * Where the user stopped reading (rooms.mine's lastReadSeq), fetched alongside the first page.
   * When the first unread message is older than the newest page, the room opens on the page around
   * it instead (messages.list `around`), and the live stream, subscribed from that page's last
   * message, brings everything after it.
   */
  readMarker?: () => Promise<number | null>;
  /**
   * The room is no longer among the user's rooms (left in another tab): when the stream is refused,
   * this is asked before joining again, so a leave elsewhere is not undone here.
   */
  stillMember?: () => Promise<boolean>;
  /**
   * Open at this message instead (a search result, `?at=`): the page around it when it is older
   * than the newest page. The read marker is still read, for the "New messages" divider.
   */
  openAt?: number | null;
}

/**
 * History and live events of one room, merged into one timeline.
 *
 * Flow: load the newest page over HTTP, then subscribe with lastEventId = the newest seq held (an
 * id in the first format the server issued, which it still accepts), so the server sends every
 * message and change after it exactly once and then live events. From then on the ids are the
 * server's own, opaque strings: wsLink remembers the id of each event and resumes from it after a
 * reconnect, and so does a restart here. The timeline drops messages it already holds, and an
 * update replaces the whole message, so replays never show twice. A `reset` (too far behind)
 * refetches the newest page.
 */
export function useRoomLive(room: string, callbacks: RoomLiveCallbacks, options: RoomLiveOptions = {}): RoomLive {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [timeline] = useState(() => new Timeline());
  const snapshot = useSyncExternalStore(timeline.subscribe, timeline.getSnapshot);
  const [status, setStatus] = useState<RoomLive['status']>('loading');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [readSeqAtOpen, setReadSeqAtOpen] = useState<number | null>(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  /** The first load (or a retry of it) reads the marker and may open around it; a `reset` does not. */
  const opened = useRef(false);
  const [subscribeFrom, setSubscribeFrom] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [online, setOnline] = useState<readonly string[] | null>(null);
  const [typing, setTyping] = useState<readonly string[]>([]);
  const [liveError, setLiveError] = useState<string | null>(null);
  const callbacksRef = useRef(callbacks);
  callbacksRef.current = callbacks;
  const olderLoad = useRef<Promise<boolean> | null>(null);
  const lastRejoin = useRef(0);
  const transportRetries = useRef(0);
  /**
   * The id of the last event the stream delivered, as the server gave it: opaque, never parsed.
   * Restarting the subscription resumes from here, not from the newest message held: an answer to
   * our own post can be newer than messages the stream has not delivered yet.
   */
  const lastEventId = useRef<string | null>(null);
  const subscribeFromRef = useRef(subscribeFrom);
  subscribeFromRef.current = subscribeFrom;
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(retryTimer.current), []);

  const addMessages = useCallback(
    (messages: readonly Message[]) => {
      const fresh = timeline.add(messages);
      if (fresh.length > 0) callbacksRef.current.onNewMessages(fresh);
    },
    [timeline],
  );

  const applyUpdates = (messages: readonly Message[]) => {
    const deleted = timeline.update(messages);
    if (deleted.length > 0) callbacksRef.current.onDeleted(deleted);
  };

  const applyAnswer = useCallback(
    (message: Message, since: number) => {
      const deleted = timeline.applyAnswer(message, since);
      if (deleted.length > 0) callbacksRef.current.onDeleted(deleted);
    },
    [timeline],
  );

  const loadNewest = useCallback(async () => {
    try {
      const since = timeline.mark();
      const opening = !opened.current;
      const [newest, marker] = await Promise.all([
        queryClient.fetchQuery({
          ...trpc.messages.list.queryOptions({ room, limit: PAGE_SIZE }),
          staleTime: 0,
        }),
        opening ? (optionsRef.current.readMarker?.() ?? null) : null,
      ]);
      let page: { messages: Message[]; hasMore: boolean } = newest;
      const oldestHeld = newest.messages[0]?.seq;
      const openAt = opening ? (optionsRef.current.openAt ?? null) : null;
      const start = openAt ?? (marker === null ? null : marker + 1);
      if (start !== null && newest.hasMore && oldestHeld !== undefined && oldestHeld > start) {
        // The message to open at (or the first unread one) is older than the newest page: open on the page around it.
        const around = await queryClient.fetchQuery({
          ...trpc.messages.list.queryOptions({ room, around: start, limit: PAGE_SIZE }),
          staleTime: 0,
        });
        page = { messages: around.messages, hasMore: around.hasMoreBefore ?? around.hasMore };
      }
      if (opening) {
        opened.current = true;
        setReadSeqAtOpen(marker);
      }
      timeline.replace(page.messages, page.hasMore, since);
      setStatus('ready');
      setLoadError(null);
      if (lastEventId.current === null) {
        lastEventId.current = String(page.messages.at(-1)?.seq ?? 0);
        setSubscribeFrom(lastEventId.current);
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

  /** One page of older history; joins the page already loading, if any. False on error. */
  const loadOlder = useCallback(
    (limit = PAGE_SIZE): Promise<boolean> => {
      if (olderLoad.current) return olderLoad.current;
      const before = timeline.oldestSeq();
      if (before === null || !timeline.getSnapshot().hasOlder) return Promise.resolve(true);
      setLoadingOlder(true);
      setOlderError(null);
      const since = timeline.mark();
      const load = queryClient
        .fetchQuery({
          ...trpc.messages.list.queryOptions({ room, before, limit }),
          // Messages change (edits, deletions, reactions): a cached page may be out of date.
          staleTime: 0,
        })
        .then(
          (page) => {
            timeline.prepend(page.messages, page.hasMore, since);
            return true;
          },
          (error: unknown) => {
            setOlderError(describeApiError(error).message);
            return false;
          },
        )
        .finally(() => {
          olderLoad.current = null;
          setLoadingOlder(false);
        });
      olderLoad.current = load;
      return load;
    },
    [queryClient, trpc, room, timeline],
  );

  const loadUntil = useCallback(
    async (seq: number): Promise<boolean> => {
      for (;;) {
        const oldest = timeline.oldestSeq();
        if (oldest === null || oldest <= seq || !timeline.getSnapshot().hasOlder) break;
        if (!(await loadOlder(JUMP_PAGE_SIZE))) return false;
      }
      return timeline.getSnapshot().messages.some((message) => message.seq === seq);
    },
    [loadOlder, timeline],
  );

  // Every event arrives tracked, as { id, data }: wsLink resumes from that id.
  const onEvent = (envelope: RoomEvent) => {
    lastEventId.current = envelope.id;
    const event = envelope.data;
    switch (event.type) {
      case 'message':
        addMessages([event.message]);
        break;
      case 'update':
        applyUpdates([event.message]);
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
          // Membership is what the subscription checks. The user may have left the room in another
          // tab: then it stays left. Otherwise the page opened before joining finished or the
          // server lost it: join again and resubscribe.
          lastRejoin.current = Date.now();
          const stillMember = optionsRef.current.stillMember?.() ?? Promise.resolve(true);
          stillMember
            .then((member) => {
              if (!member) {
                setLiveError(`You are no longer a member of #${room}`);
                return;
              }
              return client.rooms.join.mutate({ room }).then(() => restartStream());
            })
            .catch((joinError: unknown) => setLiveError(describeApiError(joinError).message));
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
    const from = lastEventId.current;
    if (from !== null && from !== subscribeFromRef.current) setSubscribeFrom(from);
    else subscription.reset();
  }

  return {
    timeline: snapshot,
    status,
    readSeqAtOpen,
    loadError,
    retryLoad: () => void loadNewest(),
    loadingOlder,
    olderError,
    loadOlder: () => void loadOlder(),
    loadUntil,
    online,
    typing,
    liveError,
    restartLive: () => {
      setLiveError(null);
      restartStream();
    },
    addMessages,
    mark: timeline.mark,
    applyAnswer,
    overlay: timeline.overlay,
  };
}
