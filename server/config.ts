import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseTrustProxy, type TrustProxy } from './lib/trust-proxy.ts';

const onOff = z.enum(['on', 'off']);
const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/**
 * argon2id runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which
 * file reads share: one hash per core gives all the throughput there is, and at most 3 keeps a
 * thread free for serving files while sign-ins pour in.
 */
export const DEFAULT_PASSWORD_HASH_CONCURRENCY = Math.max(1, Math.min(availableParallelism(), 3));

/**
 * The whole configuration surface of the server. Every field comes from the environment;
 * an empty string counts as unset so `FOO= npm start` falls back to the default instead of failing.
 */
const configFields = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  // --- Database (issue 10; docs/database.md). DATABASE_URL selects PostgreSQL; otherwise
  // DATABASE_PATH (a file, or :memory:) selects SQLite. Setting both is refused below.
  /** SQLite file; defaults to DEFAULT_DATABASE_PATH once it is known that DATABASE_URL is unset. */
  DATABASE_PATH: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    // Never echo the value: it usually holds a password.
    .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL, e.g. postgres://user:password@host:5432/atlas')
    .optional(),
  /** PostgreSQL connections per server process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  // --- end of database
  // --- Shared mode (issue 11; docs/deployment.md). REDIS_URL lets several instances on one
  // PostgreSQL database serve the same rooms: live events, presence, typing and rate limits go
  // through Redis. Without it, one instance runs with everything in its own memory.
  REDIS_URL: z
    .string()
    // Never echo the value: it may hold a password.
    .refine(isRedisUrl, 'must be a redis:// or rediss:// URL, e.g. redis://redis:6379')
    .optional(),
  /** Prefix of every Redis key and channel, so several deployments (or test files) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9:_.-]+$/, 'may hold only letters, digits and : _ . -')
    .default('atlas:'),
  // --- end of shared mode
  RATE_LIMITS: onOff.default('on'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Extra origins (besides the server's own) allowed to send cookie-authenticated mutations. */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const origins = value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
          ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin like https://chat.example.com` });
        }
      }
      return origins;
    }),
  /**
   * Which X-Forwarded-* headers to believe (client IP for rate limits, https for the cookie and HSTS):
   * `off`, a hop count (`on` = 1), or a list of proxy addresses and CIDRs. See lib/trust-proxy.ts.
   */
  TRUST_PROXY: z
    .string()
    .default('off')
    .transform((value, ctx): TrustProxy => {
      const parsed = parseTrustProxy(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  /** Password hashes and checks (argon2id) running at once; more wait in the queue below. */
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(DEFAULT_PASSWORD_HASH_CONCURRENCY),
  /** Password hashes and checks that may wait for a free slot; beyond them the answer is 503. */
  PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(32),
  /** Password hashes and checks one client IP may have running or waiting at once (429 beyond). */
  PASSWORD_CHECKS_PER_IP: z.coerce.number().int().min(1).max(10_000).default(4),
  /**
   * Rooms the server will hold. Joining an existing room always works; creating one beyond this is
   * refused (403). Not lifted by RATE_LIMITS=off: it bounds the database, not the pace.
   */
  MAX_ROOMS: z.coerce.number().int().min(1).max(10_000_000).default(10_000),

  // Live connections (WebSockets and SSE streams); see docs/limits-live.md. RATE_LIMITS=off lifts
  // the per-user and per-IP caps and the call rate, never the per-socket caps or the buffer cap.
  /** Open subscriptions on one WebSocket; a second rooms.events for the same room is refused too. */
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt(50),
  /** Open WebSockets plus SSE streams of one user. */
  WS_MAX_SOCKETS_PER_USER: positiveInt(20),
  /** Open WebSockets plus SSE streams from one client IP (counted at the upgrade). */
  WS_MAX_SOCKETS_PER_IP: positiveInt(200),
  /** Unsent bytes a WebSocket may hold before the server drops it as too slow (catch-up waits well below it). */
  WS_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(1024 * 1024),
  /** Calls per second on one WebSocket, after a burst of WS_CALL_BURST; beyond it, TOO_MANY_REQUESTS. */
  WS_CALL_RATE: z.coerce.number().positive().default(20),
  WS_CALL_BURST: positiveInt(100),
  /** Live events one subscription may have waiting; a subscriber that falls further behind is dropped. */
  LIVE_MAX_QUEUED_EVENTS: positiveInt(1000),
  /** Serve Prometheus metrics at GET /metrics. */
  METRICS: onOff.default('on'),
  /** When set, GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>". */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
});

export const DEFAULT_DATABASE_PATH = './data/atlas-chat.db';

function isRedisUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return (protocol === 'redis:' || protocol === 'rediss:') && hostname !== '';
}

function isPostgresUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname, pathname } = new URL(value);
  return (protocol === 'postgres:' || protocol === 'postgresql:') && hostname !== '' && pathname.length > 1;
}

export const configSchema = configFields
  // Runs even when other fields are bad, so every problem is listed at once.
  .refine((config) => config.DATABASE_URL === undefined || config.DATABASE_PATH === undefined, {
    path: ['DATABASE_URL'],
    message:
      'DATABASE_URL and DATABASE_PATH are both set: DATABASE_URL selects PostgreSQL and DATABASE_PATH selects SQLite, so set only one',
    when: () => true,
  })
  .refine((config) => config.REDIS_URL === undefined || config.DATABASE_URL !== undefined, {
    path: ['REDIS_URL'],
    message:
      'REDIS_URL is set but DATABASE_URL is not: shared mode needs PostgreSQL (DATABASE_URL), since SQLite (DATABASE_PATH) is one process on one host',
    when: () => true,
  })
  .transform((config) => ({ ...config, DATABASE_PATH: config.DATABASE_PATH ?? DEFAULT_DATABASE_PATH }));

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses configuration from an env-like record, reporting every bad field at once. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(configFields.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return result.data;
}
