import type { EventBus } from '../bus/event-bus.ts';
import { StoreUnavailableError } from './errors.ts';
import type { InsertResult, MessageStore, NewMessage, RoomChange } from './store.ts';

/** Upper bound on one group commit, so one transaction never holds its locks for long. */
export const MAX_BATCH = 256;

interface Pending {
  input: NewMessage;
  resolve(result: InsertResult): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** A bus listener threw: the message is stored and its caller still gets its answer. */
  onPublishError: (error: unknown) => void;
  /** After every batch written (metrics: batch size, commit duration). */
  onBatch?: (size: number, milliseconds: number) => void;
  /** Once per message stored (not for a clientId retry answered with the stored message). */
  onInserted?: () => void;
}

/**
 * Group commit over any Store backend (decision 011, 017): the posts that arrive while a batch is
 * being written, or within one event-loop turn, go to the store as ONE insertBatch (one transaction,
 * one fsync on SQLite, one round trip and one commit on PostgreSQL), and each is acknowledged only
 * after that commit. At most one batch is in flight per writer, which keeps each room's posts from
 * this process in seq order on the bus.
 *
 * Every caller gets the answer it would have got had the posts run one after another in arrival
 * order (insertBatch's contract). If a batch is rejected as a whole, each post is retried alone, in
 * order, so one bad post cannot take the others down; if the database is unavailable, every post of
 * the batch is rejected with that error at once instead (retrying would only hammer it).
 *
 * It owns "publish after commit": inserted messages go to the bus right after their commit, in seq
 * order, before any caller hears back.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private writing = false;

  constructor(
    private readonly messages: Pick<MessageStore, 'insertBatch' | 'insertOne'>,
    private readonly bus: EventBus,
    private readonly options: GroupCommitOptions,
  ) {}

  insert(input: NewMessage): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** The next batch starts at the next turn of the event loop, once no batch is in flight. */
  private schedule(): void {
    if (this.scheduled || this.writing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    const started = performance.now();
    try {
      await this.write(batch);
    } finally {
      this.writing = false;
      this.options.onBatch?.(batch.length, performance.now() - started);
      this.schedule();
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    let results: InsertResult[];
    try {
      results = await this.messages.insertBatch(batch.map((pending) => pending.input));
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // The batch rolled back as a whole, so nothing of it is stored: retry each post alone, in the
      // same order, so each caller gets its own answer. (Not per-post savepoints inside the batch:
      // see decision 011.)
      for (const pending of batch) {
        let result: InsertResult;
        try {
          result = await this.messages.insertOne(pending.input);
        } catch (error) {
          pending.reject(error);
          continue;
        }
        this.settle(pending, result);
      }
      return;
    }
    for (const [index, pending] of batch.entries()) {
      const result = results[index];
      if (result) this.settle(pending, result);
      else pending.reject(new Error('group commit returned fewer results than posts'));
    }
  }

  /**
   * Publishes the committed changes of an edit, delete or reaction (they do not go through the
   * batch: each is its own transaction), in change order. Like posts, only after the commit.
   */
  publishChanges(room: string, changes: readonly RoomChange[]): void {
    for (const { change, message } of changes) {
      try {
        this.bus.publish(room, { type: 'update', message, change });
      } catch (error) {
        this.options.onPublishError(error);
      }
    }
  }

  private settle(pending: Pending, result: InsertResult): void {
    if (result.kind === 'inserted') {
      this.options.onInserted?.();
      // A throwing listener must not strand this caller or the rest of the batch: the message is committed.
      try {
        this.bus.publish(result.message.room, { type: 'message', message: result.message, change: result.change });
      } catch (error) {
        this.options.onPublishError(error);
      }
    }
    pending.resolve(result);
  }
}
