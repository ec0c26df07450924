import type { EventBus } from '../bus/event-bus.ts';
import type { Db } from '../db/client.ts';
import { disabledMetrics, type Metrics } from '../metrics/metrics.ts';
import { type InsertResult, insertMessage, insertMessages, type NewMessage } from './messages.ts';

/** Upper bound on one group commit, so one transaction never holds the write lock for long. */
const MAX_BATCH = 256;

interface Pending {
  input: NewMessage;
  resolve(result: InsertResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: the posts that arrive while the event loop is busy are written in ONE transaction
 * at the next turn, and each is acknowledged only after that transaction committed. With
 * synchronous=FULL every commit is an fsync, so this keeps "acknowledged means on disk" while
 * paying one fsync per batch instead of one per message.
 *
 * Every caller gets the answer it would have got had the posts run one after another in arrival
 * order: inside the batch each insert sees the ones before it, so a clientId repeated within one
 * batch returns the first post's message.
 *
 * It also owns "publish after commit": inserted messages go to the bus right after their commit,
 * in seq order, before any caller hears back.
 */
export class MessageWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    /** A bus listener threw: the message is stored and its caller still gets its answer. */
    private readonly onPublishError: (error: unknown) => void,
    private readonly metrics: Pick<Metrics, 'groupCommit' | 'messagesPosted'> = disabledMetrics,
  ) {}

  insert(input: NewMessage): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    let results: InsertResult[];
    const started = performance.now();
    try {
      results = insertMessages(
        this.db,
        batch.map((pending) => pending.input),
      );
    } catch {
      this.metrics.groupCommit(batch.length, (performance.now() - started) / 1000);
      // The batch rolled back as a whole, so nothing of it is stored: retry each post alone, in
      // the same order, so one bad post cannot take the others down and each caller gets its own
      // answer. Not per-post savepoints inside the batch: an error that makes SQLite roll back the
      // whole transaction (disk full, I/O error) would leave the later posts running outside any
      // transaction, committed one by one, while the batch's failed COMMIT rejected them all; and
      // two extra statements per post would tax the common path to serve the rare one.
      for (const pending of batch) this.settle(pending, () => insertMessage(this.db, pending.input));
      return;
    }
    this.metrics.groupCommit(batch.length, (performance.now() - started) / 1000);
    for (const [index, pending] of batch.entries()) this.settle(pending, () => results[index]);
  }

  private settle(pending: Pending, run: () => InsertResult | undefined): void {
    let result: InsertResult | undefined;
    try {
      result = run();
    } catch (error) {
      pending.reject(error);
      return;
    }
    if (!result) {
      pending.reject(new Error('group commit returned fewer results than posts'));
      return;
    }
    if (result.kind === 'inserted') {
      this.metrics.messagesPosted(1);
      // A throwing listener must not strand this caller or the rest of the batch: the message is committed.
      try {
        this.bus.publish(result.message.room, { type: 'message', message: result.message });
      } catch (error) {
        this.onPublishError(error);
      }
    }
    pending.resolve(result);
  }
}
