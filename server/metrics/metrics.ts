import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a tRPC procedure was called: tRPC over HTTP (incl. SSE), tRPC over WebSocket, or REST. */
export type Transport = 'trpc-http' | 'trpc-ws' | 'rest';

/** Which live path wrote a message to a subscriber: the room broadcaster, or the subscription's own stream. */
export type DeliveryPath = 'broadcast' | 'stream';

/**
 * What the server reports about itself. The live and storage code call these methods on hot paths,
 * so the counters there only add to plain numbers; prom-client reads them when /metrics is scraped.
 * With METRICS=off every method is a no-op (`disabledMetrics`).
 */
export interface Metrics {
  /** null when METRICS=off. */
  readonly registry: Registry | null;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** One procedure call; errorCode is the TRPCError code when it failed. */
  procedure(path: string, transport: Transport, errorCode: string | null): void;
  /** One group-commit transaction of `batchSize` posts. */
  groupCommit(batchSize: number, seconds: number): void;
  messagesPosted(count: number): void;
  /** `count` messages written to subscribers; call once per batch, not once per socket. */
  deliveries(count: number, path: DeliveryPath): void;
  slowConsumerDropped(): void;
  /** A rooms.events subscription started; the returned function ends it (call it once). */
  subscriptionStarted(): () => void;
  /** Where the open-WebSocket gauge reads its value at scrape time. */
  countWebSocketsWith(count: () => number): void;
}

const noop = () => {};

export const disabledMetrics: Metrics = {
  registry: null,
  httpRequest: noop,
  procedure: noop,
  groupCommit: noop,
  messagesPosted: noop,
  deliveries: noop,
  slowConsumerDropped: noop,
  subscriptionStarted: () => noop,
  countWebSocketsWith: noop,
};

const PREFIX = 'atlas_chat_';

/** Our requests take about a millisecond: finer buckets at the low end than prom-client's default. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A commit is one fsync: sub-millisecond on a fast disk, tens of ms on a slow one. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** The writer caps a batch at 256 posts (server/store/group-commit.ts). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** The app's own metrics in a registry of its own: several apps in one process (tests) never share counts. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  // Hot-path tallies, copied into prom-client at scrape time.
  const tally = { posted: 0, broadcast: 0, stream: 0, slowDropped: 0, subscriptions: 0 };
  let webSockets: () => number = () => 0;

  const httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests by method, route template and status (GET /metrics itself and WebSocket sessions excluded).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const calls = new Counter({
    name: `${PREFIX}trpc_calls_total`,
    help: 'tRPC procedure calls (REST calls run the same procedures), failed ones included.',
    labelNames: ['procedure', 'transport'] as const,
    registers,
  });
  const errors = new Counter({
    name: `${PREFIX}trpc_errors_total`,
    help: 'tRPC procedure calls that failed, by TRPCError code.',
    labelNames: ['procedure', 'transport', 'code'] as const,
    registers,
  });
  const batchSize = new Histogram({
    name: `${PREFIX}group_commit_batch_size`,
    help: 'Posts written per group-commit transaction.',
    buckets: BATCH_BUCKETS,
    registers,
  });
  const commitDuration = new Histogram({
    name: `${PREFIX}group_commit_duration_seconds`,
    help: 'Time to write and commit (fsync) one group-commit transaction.',
    buckets: COMMIT_BUCKETS,
    registers,
  });
  new Counter({
    name: `${PREFIX}messages_posted_total`,
    help: 'New messages stored (an idempotent retry of an earlier post is not counted again).',
    registers,
    collect() {
      this.reset();
      this.inc(tally.posted);
    },
  });
  new Counter({
    name: `${PREFIX}live_deliveries_total`,
    help: 'Messages written to live subscribers, one per subscriber: by the room broadcaster or by the subscription stream (catch-up and hand-over).',
    labelNames: ['path'] as const,
    registers,
    collect() {
      this.reset();
      this.inc({ path: 'broadcast' }, tally.broadcast);
      this.inc({ path: 'stream' }, tally.stream);
    },
  });
  new Counter({
    name: `${PREFIX}live_slow_consumers_dropped_total`,
    help: 'WebSockets closed because more than 1 MiB was waiting to be sent to them.',
    registers,
    collect() {
      this.reset();
      this.inc(tally.slowDropped);
    },
  });
  new Gauge({
    name: `${PREFIX}websockets_open`,
    help: 'Open WebSocket connections.',
    registers,
    collect() {
      this.set(webSockets());
    },
  });
  new Gauge({
    name: `${PREFIX}subscriptions_active`,
    help: 'Active rooms.events subscriptions (WebSocket and SSE).',
    registers,
    collect() {
      this.set(tally.subscriptions);
    },
  });

  return {
    registry,
    httpRequest(method, route, status, seconds) {
      httpDuration.observe({ method, route, status }, seconds);
    },
    procedure(path, transport, errorCode) {
      calls.inc({ procedure: path, transport });
      if (errorCode !== null) errors.inc({ procedure: path, transport, code: errorCode });
    },
    groupCommit(size, seconds) {
      batchSize.observe(size);
      commitDuration.observe(seconds);
    },
    messagesPosted(count) {
      tally.posted += count;
    },
    deliveries(count, path) {
      tally[path] += count;
    },
    slowConsumerDropped() {
      tally.slowDropped += 1;
    },
    subscriptionStarted() {
      tally.subscriptions += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        tally.subscriptions -= 1;
      };
    },
    countWebSocketsWith(count) {
      webSockets = count;
    },
  };
}
