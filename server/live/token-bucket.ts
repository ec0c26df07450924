/**
 * A token bucket for ONE connection's call and frame budgets: `burst` at once, then
 * `refillPerSecond`. Not rate-limiter-flexible (which serves every keyed, shareable limit in
 * server/lib/rate-limiter.ts): this state belongs to a single socket, is never shared between
 * instances, and is consulted synchronously for every incoming frame, where an async, keyed store
 * would only add a promise and a map lookup per frame.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token if there is one; otherwise says how many whole seconds until there is. */
  take(): { allowed: boolean; retryAfterSeconds: number } {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.refillPerSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.ceil((1 - this.tokens) / this.refillPerSecond) };
  }
}
