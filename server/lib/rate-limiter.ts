/**
 * In-process rate limits for the domain rules (posting, sign-up, failed sign-ins). They live in the
 * procedures rather than in an HTTP plugin so tRPC, REST and WebSocket calls share one budget.
 */

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds until the next attempt can succeed; 0 when allowed. */
  retryAfterSeconds: number;
}

const allowed: LimitDecision = { allowed: true, retryAfterSeconds: 0 };

/** Token bucket per key: `burst` at once, then `refillPerSecond`. */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): LimitDecision {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.refillPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return allowed;
    }
    return { allowed: false, retryAfterSeconds: Math.ceil((1 - bucket.tokens) / this.refillPerSecond) };
  }

  /** Forgets full buckets so the map does not grow with every key ever seen. */
  prune(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.refillPerSecond >= this.burst) {
        this.buckets.delete(key);
      }
    }
  }
}

/** Counts failures per key in a sliding window; blocks once `max` failures fall inside it. */
export class FailureWindowLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  check(key: string): LimitDecision {
    const recent = this.recent(key);
    const oldest = recent[0];
    if (recent.length < this.max || oldest === undefined) return allowed;
    return { allowed: false, retryAfterSeconds: Math.ceil((oldest + this.windowMs - this.now()) / 1000) };
  }

  recordFailure(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  prune(): void {
    for (const key of this.failures.keys()) {
      if (this.recent(key).length === 0) this.failures.delete(key);
    }
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((at) => at > cutoff);
  }
}

export interface RateLimits {
  /** Per user: a burst of 30 messages, then one per second. */
  post: TokenBucketLimiter;
  /** Per client IP: sign-ups. */
  signUp: TokenBucketLimiter;
  /** Per lower-cased username: failed sign-ins within 15 minutes. */
  signInFailures: FailureWindowLimiter;
  /** Per user: creating rooms (joining existing ones is free), a burst of 10, then 10 per hour. */
  roomCreate: TokenBucketLimiter;
}

export function createRateLimits(): RateLimits {
  return {
    post: new TokenBucketLimiter(30, 1),
    signUp: new TokenBucketLimiter(30, 0.5),
    signInFailures: new FailureWindowLimiter(10, 15 * 60 * 1000),
    roomCreate: new TokenBucketLimiter(10, 10 / 3600),
  };
}
