/**
 * A bounded queue consumed by one async iterator, ending when the signal aborts. Used to turn bus
 * callbacks into a subscription's stream. A consumer that lets more than `limit` items pile up is
 * too slow: the queue drops them all at once (freeing the memory), calls `onOverflow` and ends
 * its iteration; the subscriber then resumes from its last event id through the database.
 */
export function createAsyncQueue<T>(signal: AbortSignal, options: { limit: number; onOverflow: () => void }) {
  let items: T[] = [];
  let overflowed = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  signal.addEventListener('abort', notify, { once: true });

  return {
    size: () => items.length,
    /** Whether the queue gave up because its consumer fell more than `limit` items behind. */
    get overflowed() {
      return overflowed;
    },
    push(item: T): void {
      if (overflowed || signal.aborted) return;
      if (items.length >= options.limit) {
        overflowed = true;
        items = [];
        options.onOverflow();
      } else {
        items.push(item);
      }
      notify();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      while (!signal.aborted && !overflowed) {
        const item = items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
