import {
  BurstyRateLimiter,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

/**
 * The domain rate limits (posting, sign-up, sign-in), counted by `rate-limiter-flexible`. They are
 * enforced in the procedures rather than in an HTTP plugin, so tRPC, REST and WebSocket calls share
 * one budget. Every operation is async and goes through a store: memory today, Redis (same
 * library, same rules) when several instances share the budgets.
 */

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds until the next attempt can succeed; 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * `points` per fixed window of `perSeconds`, counted from a key's first use. With `burst`, a call
 * the steady rate refuses may draw on a second, larger allowance instead (rate-limiter-flexible's
 * BurstyRateLimiter): that keeps a token bucket's feel, a burst at once and then a short wait.
 */
export interface LimitRule {
  points: number;
  perSeconds: number;
  burst?: { points: number; perSeconds: number };
}

/** Every named limit. Adding one is one line here; createRateLimits builds it. */
export const LIMIT_RULES = {
  /** Per user: 1 message a second, plus 29 more a minute: a burst of 30, then 1 per second. */
  post: { points: 1, perSeconds: 1, burst: { points: 29, perSeconds: 60 } },
  /** Per client IP: 1 sign-up per 2 s, plus 29 more per 2 minutes: a burst of 30, then 30 a minute. */
  signUp: { points: 1, perSeconds: 2, burst: { points: 29, perSeconds: 120 } },
  /** Per client IP: every password check (sign-in, change-password), successful or not. */
  signInAttempts: { points: 30, perSeconds: 60 },
  /** Per username + client IP: failed password checks; a success clears them. */
  signInFailures: { points: 10, perSeconds: 15 * 60 },
  /** Per client IP, across usernames: failed password checks; a success gives its point back. */
  signInFailuresByIp: { points: 100, perSeconds: 60 * 60 },
  /**
   * Per user: new rooms (joining an existing room is free): 30 an hour. Generous for people and
   * scripts that set up a few rooms; the audit's flood made 25,000 in 18 s.
   */
  roomCreate: { points: 30, perSeconds: 60 * 60 },
  /**
   * Per user: searches (issue 13), the most expensive read: 2 a second, plus 30 more a minute, so
   * a search box sending a request per debounced keystroke runs freely while a script cannot keep
   * the full-text index (on SQLite, the one thread serving everyone) busy.
   */
  search: { points: 2, perSeconds: 1, burst: { points: 30, perSeconds: 60 } },
} as const satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof LIMIT_RULES;

/** Builds one rate-limiter-flexible counter: RateLimiterMemory here, RateLimiterRedis later. */
export type LimiterStore = (options: IRateLimiterOptions & { keyPrefix: string }) => RateLimiterAbstract;

export const memoryStore: LimiterStore = (options) => new RateLimiterMemory(options);

/**
 * Shared mode: the counters live in Redis (keys `<prefix>rl:<limit>:<key>`), so every instance
 * draws on one budget. While Redis is unreachable each instance counts in its own memory with the
 * same rule (rate-limiter-flexible's insurance limiter) rather than failing the call or waving it
 * through.
 */
export function redisStore(client: object, prefix: string): LimiterStore {
  return (options) =>
    new RateLimiterRedis({
      ...options,
      keyPrefix: `${prefix}rl:${options.keyPrefix}`,
      storeClient: client,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options),
    });
}

const ALLOWED: LimitDecision = { allowed: true, retryAfterSeconds: 0 };

/** One named limit, keyed by whatever the caller counts (a user id, a client IP, …). */
export class Limiter {
  private readonly bursty: BurstyRateLimiter | null;

  constructor(
    private readonly steady: RateLimiterAbstract,
    private readonly burst: RateLimiterAbstract | null = null,
  ) {
    this.bursty = burst ? new BurstyRateLimiter(steady, burst) : null;
  }

  /**
   * Takes one point. The count is taken when the call is made, not when the promise settles
   * (RateLimiterMemory increments synchronously; Redis does it in one atomic command), so
   * concurrent callers cannot all pass a check made before any of them counted.
   */
  async consume(key: string): Promise<LimitDecision> {
    try {
      await (this.bursty ?? this.steady).consume(key);
      return ALLOWED;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
    }
  }

  /** Gives back a point taken by consume(), e.g. when the guarded work did not happen. */
  async refund(key: string): Promise<void> {
    // With a burst allowance, the steady counter took the point in every case.
    await this.steady.reward(key);
  }

  /** Forgets the key: its next consume() starts a fresh window. */
  async reset(key: string): Promise<void> {
    await Promise.all([this.steady.delete(key), this.burst?.delete(key)]);
  }
}

export type RateLimits = Record<LimitName, Limiter>;

export function createLimiter(name: string, rule: LimitRule, store: LimiterStore): Limiter {
  const steady = store({ keyPrefix: name, points: rule.points, duration: rule.perSeconds });
  const burst = rule.burst
    ? store({ keyPrefix: `${name}:burst`, points: rule.burst.points, duration: rule.burst.perSeconds })
    : null;
  return new Limiter(steady, burst);
}

/** Every limit in LIMIT_RULES, counted in `store`. Expired windows are dropped by the store itself. */
export function createRateLimits(store: LimiterStore = memoryStore): RateLimits {
  const entries = Object.entries(LIMIT_RULES).map(([name, rule]) => [name, createLimiter(name, rule, store)]);
  return Object.fromEntries(entries) as RateLimits;
}
