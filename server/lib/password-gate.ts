/**
 * Admission control for argon2id work (hashing a new password, checking one). Each job costs about
 * 30 ms of a core and 19 MiB, so a flood of sign-ins must not queue without bound behind everyone
 * else's: at most `concurrency` jobs run, at most `queue` more wait, and one client (IP) may hold at
 * most `perClient` of those places. Admission is decided synchronously, so concurrent calls
 * cannot all slip past the count.
 */

export type GateRefusal = 'busy' | 'client-busy';

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

  constructor(private readonly options: PasswordGateOptions) {}

  /** A ticket for `client`, or why not: the whole gate is full, or this client holds its share. */
  enter(client: string): GateTicket | GateRefusal {
    const { concurrency, queue, perClient } = this.options;
    const held = this.byClient.get(client) ?? 0;
    if (perClient !== null && held >= perClient) return 'client-busy';
    if (this.admitted >= concurrency + queue) return 'busy';
    this.admitted += 1;
    this.byClient.set(client, held + 1);
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
