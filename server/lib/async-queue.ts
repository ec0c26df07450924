/**
 * An unbounded queue consumed by one async iterator, ending when the signal aborts. Used to turn
 * bus callbacks into a subscription's stream; the consumer (tRPC) drains it as fast as it sends.
 */
export function createAsyncQueue<T>(signal: AbortSignal | undefined) {
  const items: T[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  signal?.addEventListener('abort', notify, { once: true });

  return {
    size: () => items.length,
    push(item: T): void {
      items.push(item);
      notify();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      while (!signal?.aborted) {
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
