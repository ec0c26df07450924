/** How big and how long each scenario runs; `--quick` shrinks everything to prove the harness works. */
export interface Sizes {
  /** `idleMs`: how long the server's idle CPU is read before load, to subtract it (CPU per operation). */
  send: { concurrency: number; idleMs: number; warmupMs: number; durationMs: number };
  fanout: {
    subscribers: number;
    /** Distinct users behind the subscribers (connections beyond this reuse their tokens, like tabs). */
    users: number;
    /** Distinct users who subscribe to one room at once, e.g. reconnecting after a restart. */
    joinStormUsers: number;
    window: number;
    warmupMs: number;
    saturationMs: number;
    latencyMs: number;
    /**
     * The cost phase: `posts` messages at `rate` per second, open loop, well below saturation;
     * server CPU per delivered message, the idle use read over `idleMs` subtracted.
     */
    cost: { posts: number; rate: number; idleMs: number };
  };
  history: {
    messages: number;
    users: number;
    concurrency: number;
    idleMs: number;
    warmupMs: number;
    durationMs: number;
  };
  connections: { connections: number; warmConnections: number; settleMs: number };
  /**
   * `settleMs`: how long a healthy server is left alone before its RSS is read (start-up garbage
   * settles). `withTsx`: also start the TypeScript sources through tsx, for comparison.
   */
  startup: { runs: number; settleMs: number; withTsx: boolean };
}

export const fullSizes: Sizes = {
  send: { concurrency: 32, idleMs: 1000, warmupMs: 1000, durationMs: 5000 },
  fanout: {
    subscribers: 1000,
    users: 100,
    joinStormUsers: 300,
    window: 32,
    warmupMs: 1000,
    saturationMs: 5000,
    latencyMs: 5000,
    cost: { posts: 300, rate: 30, idleMs: 2000 },
  },
  history: { messages: 100_000, users: 100, concurrency: 32, idleMs: 1000, warmupMs: 1000, durationMs: 5000 },
  connections: { connections: 5000, warmConnections: 100, settleMs: 2000 },
  startup: { runs: 5, settleMs: 1000, withTsx: true },
};

export const quickSizes: Sizes = {
  send: { concurrency: 16, idleMs: 200, warmupMs: 300, durationMs: 1000 },
  fanout: {
    subscribers: 100,
    users: 20,
    joinStormUsers: 50,
    window: 32,
    warmupMs: 300,
    saturationMs: 1000,
    latencyMs: 1000,
    cost: { posts: 30, rate: 30, idleMs: 300 },
  },
  history: { messages: 10_000, users: 20, concurrency: 16, idleMs: 200, warmupMs: 300, durationMs: 1000 },
  connections: { connections: 300, warmConnections: 20, settleMs: 500 },
  startup: { runs: 3, settleMs: 250, withTsx: false },
};
