/**
 * Admission control for argon2id work (hashing a new password, checking one). Each job costs about
 * 30 ms of a core and 19 MiB, so a flood of sign-ins must not queue without bound behind everyone
 * else's: at most `concurrency` jobs run, at most `queue` more wait, and one client (IP) may hold at
 * most `perClient` of those places. Admission is decided synchronously, so concurrent calls
 * cannot all slip past the count.
 */

export type GateRefusal = 'busy' | 'client-busy' | 'connection-busy';

/**
 * Places one WebSocket may hold at once. A flood of sign-in frames on one socket then holds a single
 * place, so the same address still gets a password checked for its other connections (the audit's
 * 2,000-frame flood delayed a legitimate sign-in from the same machine by 9.6 s).
 */
export const PLACES_PER_CONNECTION = 1;

/** A place in the gate: run() password jobs in it, then leave() exactly once (in a finally). */
export interface GateTicket {
  run<T>(job: () => Promise<T>): Promise<T>;
  leave(): void;
}

export interface PasswordGateOptions {
  concurrency: number;
  queue: number;
  /** null: no per-client cap (RATE_LIMITS=off). */
  perClient: number | null;
}

export class PasswordGate {
  private admitted = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly byClient = new Map<string, number>();
  private readonly byConnection = new WeakMap<object, number>();

  constructor(private readonly options: PasswordGateOptions) {}

  /**
   * A ticket for `client` (and `connection`, a WebSocket, when the call came on one), or why not:
   * the whole gate is full, this client holds its share, or this connection holds its place.
   */
  enter(client: string, connection?: object): GateTicket | GateRefusal {
    const { concurrency, queue, perClient } = this.options;
    const held = this.byClient.get(client) ?? 0;
    const heldByConnection = connection ? (this.byConnection.get(connection) ?? 0) : 0;
    if (heldByConnection >= PLACES_PER_CONNECTION) return 'connection-busy';
    if (perClient !== null && held >= perClient) return 'client-busy';
    if (this.admitted >= concurrency + queue) return 'busy';
    this.admitted += 1;
    this.byClient.set(client, held + 1);
    if (connection) this.byConnection.set(connection, heldByConnection + 1);
    let left = false;
    return {
      run: (job) => this.runJob(job),
      leave: () => {
        if (left) return;
        left = true;
        this.admitted -= 1;
        const remaining = (this.byClient.get(client) ?? 1) - 1;
        if (remaining > 0) this.byClient.set(client, remaining);
        else this.byClient.delete(client);
        if (connection) this.byConnection.set(connection, (this.byConnection.get(connection) ?? 1) - 1);
      },
    };
  }

  private async runJob<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
