import { z } from 'zod';

const onOff = z.enum(['on', 'off']);

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
  /** Trust X-Forwarded-* headers (client IP for rate limits, https for Secure cookies) behind a reverse proxy. */
  TRUST_PROXY: onOff.default('off'),
});

export const DEFAULT_DATABASE_PATH = './data/atlas-chat.db';

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
