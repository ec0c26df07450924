/**
 * A separate process posting through its own PostgreSQL Store and GroupCommitWriter, as a second
 * server process would. Run with `node --import tsx tests/support/store-worker.ts '<job json>'`:
 * it opens the store, prints "ready", waits for "go" on stdin (so several workers start at the same
 * moment), posts every post of the job at once through the writer, prints one JSON line with the
 * answers, and exits. Driven by runWorkers in workers.ts.
 */
import { createInterface } from 'node:readline';
import { InProcessEventBus } from '../../server/bus/event-bus.ts';
import { GroupCommitWriter } from '../../server/store/group-commit.ts';
import { openPostgresStore } from '../../server/store/postgres/postgres-store.ts';
import type { InsertResult, RoomRow, SessionUser } from '../../server/store/store.ts';

export interface WorkerPost {
  room: string;
  author: string;
  text: string;
  clientId: string | null;
}

export interface WorkerJob {
  url: string;
  posts: WorkerPost[];
  /** Posts handed to the writer per event-loop turn (all at once when absent). */
  chunk?: number;
}

export type WorkerAnswer = InsertResult | { kind: 'error'; message: string };

export interface WorkerReport {
  answers: WorkerAnswer[];
  /** Batches that hit a deadlock or serialization failure and ran again. */
  retries: string[];
  batches: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as WorkerJob;
  const retries: string[] = [];
  const store = await openPostgresStore({
    url: job.url,
    poolSize: 2,
    onRetry: (state, attempt) => retries.push(`${state}#${attempt}`),
  });
  const rooms = new Map<string, RoomRow>();
  const authors = new Map<string, SessionUser>();
  for (const post of job.posts) {
    if (!rooms.has(post.room)) {
      const room = await store.rooms.find(post.room);
      if (!room) throw new Error(`no room ${post.room}`);
      rooms.set(post.room, room);
    }
    if (!authors.has(post.author)) {
      const user = await store.users.findByUsername(post.author);
      if (!user) throw new Error(`no user ${post.author}`);
      authors.set(post.author, { id: user.id, username: user.username });
    }
  }
  let batches = 0;
  const writer = new GroupCommitWriter(store.messages, new InProcessEventBus(), {
    onPublishError: () => {},
    onBatch: () => {
      batches += 1;
    },
  });

  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;

  const answers: Promise<WorkerAnswer>[] = [];
  const chunk = job.chunk ?? job.posts.length;
  for (let start = 0; start < job.posts.length; start += chunk) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const post of job.posts.slice(start, start + chunk)) {
      answers.push(
        writer
          .insert({
            room: rooms.get(post.room) as RoomRow,
            author: authors.get(post.author) as SessionUser,
            text: post.text,
            clientId: post.clientId,
            now: new Date(),
          })
          .catch((error: unknown) => ({ kind: 'error' as const, message: String(error) })),
      );
    }
  }
  const report: WorkerReport = { answers: await Promise.all(answers), retries, batches };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await store.close();
  process.stdin.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
