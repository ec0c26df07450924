import { useMutation } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { deletePatch, editPatch, hasReacted, type MessagePatch, reactPatch, unreactPatch } from './message-patches.ts';
import type { RoomLive } from './use-room-live.ts';

export interface MessageActions {
  edit: (seq: number, text: string) => void;
  remove: (seq: number) => void;
  /** Adds my reaction with `emoji`, or takes it back if I already reacted with it. */
  toggleReaction: (seq: number, emoji: string) => void;
  /** Why the last change to a message failed (it was rolled back), by seq. */
  errors: ReadonlyMap<number, string>;
  dismissError: (seq: number) => void;
}

/**
 * Edit, delete and react, shown at once (optimistic) and rolled back with the reason when the
 * server refuses or cannot be reached, as sending does. The server's answer becomes the message's
 * state unless the live stream has already moved past it (see Timeline.applyAnswer).
 */
export function useMessageActions(room: string, me: string, live: RoomLive): MessageActions {
  const trpc = useTRPC();
  const editMutation = useMutation(trpc.messages.edit.mutationOptions());
  const deleteMutation = useMutation(trpc.messages.delete.mutationOptions());
  const reactMutation = useMutation(trpc.messages.react.mutationOptions());
  const unreactMutation = useMutation(trpc.messages.unreact.mutationOptions());
  const [errors, setErrors] = useState<ReadonlyMap<number, string>>(new Map());
  const { mark, overlay, applyAnswer } = live;
  // Read at click time: toggling depends on what the message shows then.
  const messagesRef = useRef(live.timeline.messages);
  messagesRef.current = live.timeline.messages;

  const setError = useCallback((seq: number, error: string | null) => {
    setErrors((current) => {
      if (error === null && !current.has(seq)) return current;
      const next = new Map(current);
      if (error === null) next.delete(seq);
      else next.set(seq, error);
      return next;
    });
  }, []);

  const change = useCallback(
    async (seq: number, patch: MessagePatch, call: () => Promise<{ message: Message }>, failure: string) => {
      setError(seq, null);
      const since = mark();
      const rollback = overlay(seq, patch);
      try {
        const { message } = await call();
        applyAnswer(message, since);
      } catch (error) {
        setError(seq, `${failure}: ${describeApiError(error).message}`);
      } finally {
        rollback();
      }
    },
    [mark, overlay, applyAnswer, setError],
  );

  const edit = useCallback(
    (seq: number, text: string) =>
      void change(
        seq,
        editPatch(text, new Date()),
        () => editMutation.mutateAsync({ room, seq, text }),
        'Could not edit the message',
      ),
    [change, editMutation.mutateAsync, room],
  );

  const remove = useCallback(
    (seq: number) =>
      void change(
        seq,
        deletePatch(new Date()),
        () => deleteMutation.mutateAsync({ room, seq }),
        'Could not delete the message',
      ),
    [change, deleteMutation.mutateAsync, room],
  );

  const toggleReaction = useCallback(
    (seq: number, emoji: string) => {
      const message = messagesRef.current.find((candidate) => candidate.seq === seq);
      if (!message) return;
      if (hasReacted(message, emoji, me)) {
        void change(
          seq,
          unreactPatch(emoji, me),
          () => unreactMutation.mutateAsync({ room, seq, emoji }),
          `Could not remove your ${emoji} reaction`,
        );
      } else {
        void change(
          seq,
          reactPatch(emoji, me),
          () => reactMutation.mutateAsync({ room, seq, emoji }),
          `Could not add your ${emoji} reaction`,
        );
      }
    },
    [change, reactMutation.mutateAsync, unreactMutation.mutateAsync, room, me],
  );

  const dismissError = useCallback((seq: number) => setError(seq, null), [setError]);

  return { edit, remove, toggleReaction, errors, dismissError };
}
