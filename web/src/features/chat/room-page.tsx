import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, Navigate, useNavigate, useParams, useSearchParams } from 'react-router';
import { normalizeRoomName } from '../../../../shared/rules.ts';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import type { Message, MyRoom } from '../../lib/api-types.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC, useTRPCClient } from '../../lib/trpc.ts';
import { useMediaQuery } from '../../lib/use-media-query.ts';
import { tabIsRead, useTabRead } from '../../lib/use-tab-read.ts';
import { useSession } from '../auth/session.ts';
import { useMentionCountAlerts, useMentionNotifier } from '../mentions/mention-alerts.ts';
import { roomPath } from '../rooms/room-path.ts';
import { countLabel, RoomSidebar } from '../rooms/room-sidebar.tsx';
import { RoomsDrawer } from '../rooms/rooms-drawer.tsx';
import { useMyRooms } from '../rooms/use-my-rooms.ts';
import { HeaderTools } from '../search/header-tools.tsx';
import { jumpSeqOf } from '../search/message-link.ts';
import { Composer, type ComposerEdit } from './composer.tsx';
import { ConnectionStatus } from './connection-status.tsx';
import { MembersPanel } from './members-panel.tsx';
import { type FirstUnread, MessageList } from './message-list.tsx';
import { isDeleted, quoteOf } from './message-patches.ts';
import { TypingIndicator } from './typing-indicator.tsx';
import { useMessageActions } from './use-message-actions.ts';
import { useOutbox } from './use-outbox.ts';
import { useReadMarker } from './use-read-marker.ts';
import { useRoomLive } from './use-room-live.ts';
import { useRoomStats } from './use-room-stats.ts';

/** Below this width the room list is a drawer, opened from the header (see styles.css). */
const NARROW = '(max-width: 50rem)';

/**
 * `/rooms/:room`. Signed out → the join page with the room filled in. Opening a room joins it
 * (idempotent), since posting and following it live need membership.
 *
 * The page stays mounted while the user moves between rooms (the sidebar, Alt+Up and Alt+Down,
 * back and forward: one URL per room); only the room's own view below starts afresh.
 */
export function RoomPage() {
  const { room: rawRoom = '' } = useParams();
  const session = useSession();
  const room = normalizeRoomName(rawRoom);
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signedIn = session.data != null;
  const myRooms = useMyRooms(signedIn);
  useMentionCountAlerts(myRooms.rooms, room);
  // `?at=<seq>`: open the room at that message (a search result), see search/message-link.ts.
  const [searchParams] = useSearchParams();
  const openAt = jumpSeqOf(searchParams);
  const narrow = useMediaQuery(NARROW);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [leaving, setLeaving] = useState<string | null>(null);
  const [leaveError, setLeaveError] = useState<string | null>(null);
  const tabRead = useTabRead();
  // rooms.join is a mutation, but "make sure I am a member" is idempotent state: a query runs it
  // once per room and session, however often the page renders or remounts.
  const membership = useQuery({
    queryKey: ['membership', room],
    queryFn: async () => {
      const joined = await client.rooms.join.mutate({ room });
      // A room joined just now belongs in "my rooms" (the live stream says so too, a moment later).
      void queryClient.invalidateQueries({ queryKey: trpc.rooms.mine.queryKey() });
      return joined;
    },
    enabled: signedIn && room !== '',
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });

  // Left in another tab or device: the room drops out of my rooms. Only after it was listed once,
  // since right after joining the list may not have it yet.
  const listed = myRooms.rooms?.some((row) => row.name === room) ?? false;
  const wasListed = useRef<string | null>(null);
  if (listed) wasListed.current = room;
  const leftElsewhere = membership.isSuccess && wasListed.current === room && myRooms.rooms !== null && !listed;
  // Rooms left since (here or elsewhere) must be joined again when opened: forget that they were.
  useEffect(() => {
    if (!myRooms.rooms) return;
    const names = new Set(myRooms.rooms.map((row) => row.name));
    queryClient.removeQueries({
      predicate: ({ queryKey: [kind, name] }) =>
        kind === 'membership' && typeof name === 'string' && name !== room && !names.has(name),
    });
  }, [myRooms.rooms, room, queryClient]);
  // Widened past the drawer's breakpoint: the list is in the sidebar now.
  if (!narrow && drawerOpen) setDrawerOpen(false);

  // The open room's unread messages count while the tab is in the background: that is when the
  // title is what the user sees.
  const unread = myRooms.unreadTotal(tabRead ? room : undefined);
  useEffect(() => {
    document.title = `${unread > 0 ? `(${unread}) ` : ''}#${room} · atlas-chat`;
  }, [unread, room]);
  useEffect(
    () => () => {
      document.title = 'atlas-chat';
    },
    [],
  );

  const order = useMemo(() => myRooms.rooms?.map((row) => row.name) ?? [], [myRooms.rooms]);
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.defaultPrevented) return;
      if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
      if (order.length === 0) return;
      event.preventDefault();
      const index = order.indexOf(room);
      const step = event.key === 'ArrowDown' ? 1 : -1;
      const next =
        index === -1 ? (step === 1 ? order[0] : order.at(-1)) : order[(index + step + order.length) % order.length];
      if (next && next !== room) void navigate(roomPath(next));
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [order, room, navigate]);

  // Leaving the open room goes to the next of my rooms first (or the join page), so nothing on
  // this page asks to join it again while the leave is under way.
  const leave = (name: string) => setLeaving(name);
  const confirmLeave = () => {
    const name = leaving;
    setLeaving(null);
    setDrawerOpen(false);
    if (!name) return;
    setLeaveError(null);
    const next = order.find((other) => other !== name);
    void navigate(next ? roomPath(next) : '/');
    client.rooms.leave.mutate({ room: name }).then(
      () => {
        myRooms.removed(name);
        queryClient.removeQueries({ queryKey: ['membership', name] });
      },
      (error: unknown) => setLeaveError(`Could not leave #${name}: ${describeApiError(error).message}`),
    );
  };

  if (session.data === null) return <Navigate to={`/?room=${encodeURIComponent(rawRoom)}`} replace />;
  if (rawRoom !== room && room !== '') return <Navigate to={roomPath(room)} replace />;

  const me = session.data?.username ?? '';
  const sidebar = (
    <RoomSidebar
      me={me}
      current={room}
      rooms={myRooms.rooms}
      isError={myRooms.isError}
      onLeave={leave}
      leaveError={leaveError}
      onNavigate={() => setDrawerOpen(false)}
    />
  );
  const otherUnread = myRooms.unreadTotal(room);
  const roomsButton = narrow ? (
    <button
      type="button"
      className="button button--quiet rooms-button"
      aria-haspopup="dialog"
      aria-expanded={drawerOpen}
      onClick={() => setDrawerOpen(true)}
    >
      <span aria-hidden="true" className="rooms-button__icon">
        ☰
      </span>
      <span className="visually-hidden">Rooms</span>
      {otherUnread > 0 ? (
        <span className="badge">
          <span className="visually-hidden">, </span>
          {countLabel(otherUnread)}
          <span className="visually-hidden"> unread</span>
        </span>
      ) : null}
    </button>
  ) : null;

  let content: ReactNode;
  if (session.isError || membership.isError) {
    const info = describeApiError(session.error ?? membership.error);
    content = (
      <RoomNotice room={room} roomsButton={roomsButton} alert>
        <h2>Cannot open #{room}</h2>
        <p>{info.message}</p>
        <p>
          <Link to={`/?room=${encodeURIComponent(rawRoom)}`}>Choose another room</Link>
        </p>
      </RoomNotice>
    );
  } else if (leftElsewhere) {
    content = (
      <RoomNotice room={room} roomsButton={roomsButton}>
        <h2>You left #{room}</h2>
        <p>You left this room in another tab or on another device.</p>
        <button
          type="button"
          className="button button--primary"
          onClick={() => {
            wasListed.current = null;
            void queryClient.resetQueries({ queryKey: ['membership', room] });
          }}
        >
          Join #{room} again
        </button>
      </RoomNotice>
    );
  } else if (!session.data || !membership.data) {
    content = (
      <RoomNotice room={room} roomsButton={roomsButton}>
        <p className="muted">Opening #{room}…</p>
      </RoomNotice>
    );
  } else {
    // Keyed by room: switching rooms starts a fresh timeline and subscription.
    content = (
      <RoomView
        // A jump to a message (?at=) opens the room afresh around it.
        key={openAt === null ? room : `${room}@${openAt}`}
        room={room}
        openAt={openAt}
        me={session.data.username}
        roomsButton={roomsButton}
        openedRoom={async () => {
          // Read afresh: the marker decides where the room opens.
          const rows = await myRooms.refresh().catch(() => null);
          return rows?.find((row) => row.name === room) ?? null;
        }}
        stillMember={async () => (await myRooms.refresh()).some((row) => row.name === room)}
        onMarkedRead={myRooms.markedRead}
      />
    );
  }

  return (
    <div className="room-page">
      {narrow ? (
        drawerOpen ? (
          <RoomsDrawer onClose={() => setDrawerOpen(false)}>{sidebar}</RoomsDrawer>
        ) : null
      ) : (
        <nav className="rooms-sidebar" aria-label="Rooms">
          {sidebar}
        </nav>
      )}
      {content}
      {leaving ? (
        <ConfirmDialog
          title={`Leave #${leaving}?`}
          confirmLabel="Leave"
          onConfirm={confirmLeave}
          onCancel={() => setLeaving(null)}
        >
          <p>It goes from your rooms and its member list. You can join it again at any time.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** The main column while a room is not open: loading, refused, or left elsewhere. */
function RoomNotice({
  room,
  roomsButton,
  alert = false,
  children,
}: {
  room: string;
  roomsButton: ReactNode;
  alert?: boolean;
  children: ReactNode;
}) {
  return (
    <div className="room-page__main">
      <header className="room-header">
        {roomsButton}
        <h1 className="room-header__title" title={`#${room}`}>
          #{room}
        </h1>
      </header>
      <main className="chat">
        <div className="card room-notice" role={alert ? 'alert' : undefined}>
          {children}
        </div>
      </main>
    </div>
  );
}

interface RoomViewProps {
  room: string;
  me: string;
  /** Opens the room list on a narrow screen; null when the list is beside the room. */
  roomsButton: ReactNode;
  /** This room among my rooms, read afresh: where the user stopped reading. */
  openedRoom: () => Promise<MyRoom | null>;
  stillMember: () => Promise<boolean>;
  onMarkedRead: (room: string, lastReadSeq: number) => void;
  /** A message to open the room at, scrolled to and highlighted (a search result). */
  openAt: number | null;
}

function RoomView({ room, me, roomsButton, openedRoom, stillMember, onMarkedRead, openAt }: RoomViewProps) {
  const trpc = useTRPC();
  const notifyMentions = useMentionNotifier(room, me);
  const typingMutation = useMutation(trpc.rooms.typing.mutationOptions({ onError: () => {} }));
  /** The newest seq when the room opened: the stream replays older ones when the room opens on its first unread. */
  const headAtOpen = useRef<number | null>(null);
  /** The "New messages" divider goes after this seq; null: no divider; undefined: not decided yet. */
  const [unreadAfter, setUnreadAfter] = useState<number | null | undefined>(undefined);
  // Arrivals and deletions move the counts; the callbacks run after render, when `stats` below exists.
  const live = useRoomLive(
    room,
    {
      onNewMessages: (messages) => {
        const head = headAtOpen.current;
        const arrived = head === null ? messages : messages.filter((message) => message.seq > head);
        if (arrived.length > 0) stats.countArrivals(arrived);
        notifyMentions(arrived);
        // Messages that come while the tab is in the background are "new" when the user comes back.
        const fromOthers = arrived.find((message) => message.author !== me);
        if (unreadAfter === null && fromOthers && !tabIsRead()) setUnreadAfter(fromOthers.seq - 1);
      },
      onDeleted: (messages) => stats.countDeletions(messages),
    },
    {
      readMarker: async () => {
        const row = await openedRoom();
        headAtOpen.current = row?.lastSeq ?? null;
        return row?.lastReadSeq ?? null;
      },
      stillMember,
      openAt,
    },
  );
  const marker = useReadMarker(room, live.readSeqAtOpen, onMarkedRead);

  // Decided once, when the first page is in: was anything unread when the room opened?
  const { messages: held, hasOlder } = live.timeline;
  if (unreadAfter === undefined && live.status === 'ready') {
    const after = live.readSeqAtOpen;
    const oldest = held[0]?.seq;
    const unread =
      after !== null &&
      (held.some((message) => message.seq > after && message.author !== me && !isDeleted(message)) ||
        (hasOlder && oldest !== undefined && oldest > after + 1));
    setUnreadAfter(unread ? after : null);
  }
  const firstUnread = useMemo((): FirstUnread | null => {
    if (unreadAfter === undefined || unreadAfter === null) return null;
    const oldest = held[0]?.seq;
    // Not loaded yet (the room opened on its newest messages after a long absence).
    if (hasOlder && oldest !== undefined && oldest > unreadAfter + 1) return { seq: unreadAfter + 1, held: false };
    const first = held.find((message) => message.seq > unreadAfter && message.author !== me && !isDeleted(message));
    return first ? { seq: first.seq, held: true } : null;
  }, [unreadAfter, held, hasOlder, me]);
  const stats = useRoomStats(room, live.online);
  const outbox = useOutbox(room, (message) => live.addMessages([message]));
  const actions = useMessageActions(room, me, live);
  // Editing and replying are one or the other: each starts by ending the other.
  const [editing, setEditing] = useState<ComposerEdit | null>(null);
  const [replyingTo, setReplyingTo] = useState<Message | null>(null);
  const messagesRef = useRef(live.timeline.messages);
  messagesRef.current = live.timeline.messages;

  const startEdit = useCallback((message: Message) => {
    setReplyingTo(null);
    setEditing({ seq: message.seq, text: message.text });
  }, []);
  const startReply = useCallback((message: Message) => {
    setEditing(null);
    setReplyingTo(message);
  }, []);
  const editLast = useCallback(() => {
    const last = messagesRef.current.findLast((message) => message.author === me && !isDeleted(message));
    if (last) startEdit(last);
    return last !== undefined;
  }, [me, startEdit]);
  const send = (text: string) => {
    outbox.send(text, replyingTo ? quoteOf(replyingTo) : null);
    setReplyingTo(null);
  };
  const saveEdit = (seq: number, text: string) => {
    actions.edit(seq, text);
    setEditing(null);
  };

  // A message deleted meanwhile (from another tab, say) can be neither edited nor replied to.
  const editingDeleted = editing !== null && live.timeline.messages.some((m) => m.seq === editing.seq && isDeleted(m));
  const replyDeleted =
    replyingTo !== null && live.timeline.messages.some((m) => m.seq === replyingTo.seq && isDeleted(m));
  useEffect(() => {
    if (editingDeleted) setEditing(null);
    if (replyDeleted) setReplyingTo(null);
  }, [editingDeleted, replyDeleted]);

  // A message whose live event beat our own post answer is already in the timeline.
  const pending = useMemo(
    () => outbox.items.filter((item) => !live.timeline.clientIds.has(item.clientId)),
    [outbox.items, live.timeline.clientIds],
  );
  useEffect(() => {
    if (pending.length !== outbox.items.length) outbox.settle(live.timeline.clientIds);
  }, [pending.length, outbox.items.length, outbox.settle, live.timeline.clientIds]);

  return (
    <>
      <div className="room-page__main">
        <header className="room-header">
          {roomsButton}
          <h1 className="room-header__title" title={`#${room}`}>
            #{room}
          </h1>
          <ConnectionStatus liveError={live.liveError} onRestart={live.restartLive} />
          <HeaderTools room={room} />
        </header>
        <main className="chat">
          {live.status === 'ready' ? (
            <MessageList
              room={room}
              me={me}
              messages={live.timeline.messages}
              pending={pending}
              hasOlder={live.timeline.hasOlder}
              loadingOlder={live.loadingOlder}
              olderError={live.olderError}
              onLoadOlder={live.loadOlder}
              onRetry={outbox.retry}
              onDiscard={outbox.discard}
              loadUntil={live.loadUntil}
              editingSeq={editing?.seq ?? null}
              onEdit={startEdit}
              onReply={startReply}
              onDelete={actions.remove}
              onToggleReaction={actions.toggleReaction}
              errors={actions.errors}
              onDismissError={actions.dismissError}
              firstUnread={firstUnread}
              onSeen={marker.seen}
              openAt={openAt}
            />
          ) : live.status === 'error' ? (
            <div className="chat__problem" role="alert">
              <p>Messages could not be loaded: {live.loadError}</p>
              <button type="button" className="button" onClick={live.retryLoad}>
                Try again
              </button>
            </div>
          ) : (
            <p className="chat__problem muted">Loading messages…</p>
          )}
          <TypingIndicator me={me} usernames={live.typing} />
          <Composer
            room={room}
            me={me}
            onSend={send}
            onTyping={() => typingMutation.mutate({ room })}
            editing={editing}
            onSaveEdit={saveEdit}
            onCancelEdit={() => setEditing(null)}
            onEditLast={editLast}
            replyingTo={replyingTo}
            onCancelReply={() => setReplyingTo(null)}
          />
        </main>
      </div>
      <aside className="sidebar" aria-label="Room details">
        <MembersPanel
          me={me}
          rows={stats.rows}
          roomTotal={stats.roomTotal}
          moreMembers={stats.moreMembers}
          isLoading={stats.isLoading}
          isError={stats.isError}
        />
      </aside>
    </>
  );
}
