import { useSyncExternalStore } from 'react';
import { wsClient } from './trpc.ts';

/**
 * - `idle`: no socket (nothing subscribed yet; it opens on demand)
 * - `connecting`: the first connection is being made
 * - `reconnecting`: the socket dropped and the client is trying again
 * - `open`: connected
 */
export type LiveConnectionState = 'idle' | 'connecting' | 'reconnecting' | 'open';

function read(): LiveConnectionState {
  const current = wsClient.connectionState.get();
  if (current.state === 'pending') return 'open';
  if (current.state === 'idle') return 'idle';
  return current.error ? 'reconnecting' : 'connecting';
}

function subscribe(onChange: () => void): () => void {
  const subscription = wsClient.connectionState.subscribe({ next: onChange });
  return () => subscription.unsubscribe();
}

export function useLiveConnectionState(): LiveConnectionState {
  return useSyncExternalStore(subscribe, read);
}
