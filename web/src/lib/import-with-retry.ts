/**
 * A dynamic import that survives a server restart or a network blip: a code-split chunk that fails
 * to load is fetched again after a pause, instead of throwing into React.lazy, which would replace
 * the component (for the markdown renderer: the whole message list) with an error for good.
 */
export function importWithRetry<T>(load: () => Promise<T>, attempts = 20, pauseMs = 1_000): Promise<T> {
  return load().catch((error: unknown) => {
    if (attempts <= 1) throw error;
    return new Promise<T>((resolve, reject) => {
      setTimeout(() => importWithRetry(load, attempts - 1, pauseMs).then(resolve, reject), pauseMs);
    });
  });
}
