import { useMutation } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import type { Message } from '../../lib/api-types.ts';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { ReplyQuote } from './message-patches.ts';

export interface OutboxItem {
  /** Sent with every attempt: the server stores a message once per clientId, so retries never duplicate. */
  clientId: string;
  text: string;
  /** The message it replies to, quoted as the server will quote it. */
  replyTo: ReplyQuote | null;
  state: 'sending' | 'failed';
  error: string | null;
  createdAt: Date;
}

/**
 * Messages this tab is sending: shown at once (optimistic), removed when the server's answer or
 * the live event with the same clientId arrives, kept with the reason and a retry when sending failed.
 */
export function useOutbox(room: string, onSent: (message: Message) => void) {
  const trpc = useTRPC();
  const post = useMutation(trpc.messages.post.mutationOptions());
  const [items, setItems] = useState<readonly OutboxItem[]>([]);
  const onSentRef = useRef(onSent);
  onSentRef.current = onSent;

  const attempt = useCallback(
    async (item: OutboxItem) => {
      setItems((current) =>
        current.map((entry) =>
          entry.clientId === item.clientId ? { ...entry, state: 'sending', error: null } : entry,
        ),
      );
      try {
        const { message } = await post.mutateAsync({
          room,
          text: item.text,
          clientId: item.clientId,
          ...(item.replyTo ? { replyTo: item.replyTo.seq } : {}),
        });
        onSentRef.current(message);
        setItems((current) => current.filter((entry) => entry.clientId !== item.clientId));
      } catch (error) {
        const reason = describeApiError(error).message;
        setItems((current) =>
          current.map((entry) =>
            entry.clientId === item.clientId ? { ...entry, state: 'failed', error: reason } : entry,
          ),
        );
      }
    },
    [post.mutateAsync, room],
  );

  const send = useCallback(
    (text: string, replyTo: ReplyQuote | null = null) => {
      const item: OutboxItem = {
        clientId: crypto.randomUUID(),
        text,
        replyTo,
        state: 'sending',
        error: null,
        createdAt: new Date(),
      };
      setItems((current) => [...current, item]);
      void attempt(item);
    },
    [attempt],
  );

  const retry = useCallback(
    (clientId: string) => {
      const item = items.find((entry) => entry.clientId === clientId);
      if (item && item.state === 'failed') void attempt(item);
    },
    [items, attempt],
  );

  const discard = useCallback((clientId: string) => {
    setItems((current) => current.filter((entry) => entry.clientId !== clientId));
  }, []);

  /** Drops items whose message already arrived some other way (e.g. its live event beat the answer). */
  const settle = useCallback((arrivedClientIds: ReadonlySet<string>) => {
    setItems((current) => {
      const left = current.filter((entry) => !arrivedClientIds.has(entry.clientId));
      return left.length === current.length ? current : left;
    });
  }, []);

  return { items, send, retry, discard, settle };
}
