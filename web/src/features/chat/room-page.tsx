import { useMutation, useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, Navigate, useParams } from 'react-router';
import { normalizeRoomName } from '../../../../shared/rules.ts';
import type { Message } from '../../lib/api-types.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC, useTRPCClient } from '../../lib/trpc.ts';
import { useSession } from '../auth/session.ts';
import { SignOutButton } from '../auth/sign-out-button.tsx';
import { useMentionNotifier } from '../mentions/mention-alerts.ts';
import { HeaderTools } from '../search/header-tools.tsx';
import { Composer, type ComposerEdit } from './composer.tsx';
import { ConnectionStatus } from './connection-status.tsx';
import { MembersPanel } from './members-panel.tsx';
import { MessageList } from './message-list.tsx';
import { isDeleted, quoteOf } from './message-patches.ts';
import { TypingIndicator } from './typing-indicator.tsx';
import { useMessageActions } from './use-message-actions.ts';
import { useOutbox } from './use-outbox.ts';
import { useRoomLive } from './use-room-live.ts';
import { useRoomStats } from './use-room-stats.ts';

/**
 * `/rooms/:room`. Signed out → the join page with the room filled in. Opening a room joins it
 * (idempotent), since posting and following it live need membership.
 */
export function RoomPage() {
  const { room: rawRoom = '' } = useParams();
  const session = useSession();
  const room = normalizeRoomName(rawRoom);
  const client = useTRPCClient();
  // rooms.join is a mutation, but "make sure I am a member" is idempotent state: a query runs it
  // once per room and session, however often the page renders or remounts.
  const membership = useQuery({
    queryKey: ['membership', room],
    queryFn: () => client.rooms.join.mutate({ room }),
    enabled: session.data != null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });

  useEffect(() => {
    document.title = `#${room} · atlas-chat`;
    return () => {
      document.title = 'atlas-chat';
    };
  }, [room]);

  if (session.data === null) return <Navigate to={`/?room=${encodeURIComponent(rawRoom)}`} replace />;
  if (rawRoom !== room && room !== '') return <Navigate to={`/rooms/${encodeURIComponent(room)}`} replace />;
  if (session.isError || membership.isError) {
    const info = describeApiError(session.error ?? membership.error);
    return (
      <main className="join-page">
        <div className="card" role="alert">
          <h1>Cannot open #{room}</h1>
          <p>{info.message}</p>
          <p>
            <Link to={`/?room=${encodeURIComponent(rawRoom)}`}>Choose another room</Link>
          </p>
        </div>
      </main>
    );
  }
  if (!session.data || !membership.data) {
    return (
      <main className="join-page">
        <p className="card muted">Opening #{room}…</p>
      </main>
    );
  }
  // Keyed by room: switching rooms starts a fresh timeline and subscription.
  return <RoomView key={room} room={room} me={session.data.username} />;
}

function RoomView({ room, me }: { room: string; me: string }) {
  const trpc = useTRPC();
  const typingMutation = useMutation(trpc.rooms.typing.mutationOptions({ onError: () => {} }));
  // Arrivals and deletions move the counts; the callbacks run after render, when `stats` below exists.
  const notifyMentions = useMentionNotifier(room, me);
  const live = useRoomLive(room, {
    onNewMessages: (messages) => {
      stats.countArrivals(messages);
      notifyMentions(messages);
    },
    onDeleted: (messages) => stats.countDeletions(messages),
  });
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
    <div className="room-page">
      <div className="room-page__main">
        <header className="room-header">
          <Link to="/" className="wordmark wordmark--small">
            atlas-chat
          </Link>
          <h1 className="room-header__title" title={`#${room}`}>
            #{room}
          </h1>
          <ConnectionStatus liveError={live.liveError} onRestart={live.restartLive} />
          <HeaderTools room={room} />
          <nav className="room-header__actions" aria-label="Room and account">
            <Link to="/" className="button button--quiet">
              Switch room
            </Link>
            <span className="room-header__user muted">
              Signed in as <strong>{me}</strong>
            </span>
            <SignOutButton />
          </nav>
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
    </div>
  );
}
