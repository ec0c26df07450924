type Listener = () => void;

const listeners = new Set<Listener>();

/**
 * Raised when any call answers 401: the session ended (signed out elsewhere, expired, server
 * database reset). The router listens and sends the user to the join page.
 */
export const sessionExpired = {
  emit(): void {
    for (const listener of listeners) listener();
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
