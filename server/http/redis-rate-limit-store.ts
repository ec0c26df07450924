import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RedisCommands } from '../live/shared-presence.ts';

/** One counter per key and window: INCR, a TTL on the first hit, and the time left. */
const INCR = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

const READ = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}`;

/**
 * @fastify/rate-limit's store on node-redis (its own Redis store needs ioredis): the coarse per-IP
 * ceiling counted once for all instances, keys `<prefix>http:<client key>`. Registered with
 * skipOnError, so while Redis is unreachable the ceiling is not enforced; the domain limits (posts,
 * sign-in, sign-up) fall back to per-instance memory instead (lib/rate-limiter.ts).
 */
export function redisRateLimitStore(redis: RedisCommands, prefix: string): FastifyRateLimitStoreCtor {
  const run = (
    script: string,
    key: string,
    args: string[],
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
  ) => {
    redis.sendCommand(['EVAL', script, '1', key, ...args]).then(
      (reply) => {
        const [current, ttl] = reply as [number, number];
        callback(null, { current: Number(current), ttl: Number(ttl) });
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  };
  class RedisRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly key = `${prefix}http:`,
    ) {}

    incr(key: string, callback: Parameters<FastifyRateLimitStore['incr']>[1], timeWindow: number): void {
      run(INCR, this.key + key, [String(timeWindow)], callback);
    }

    read(key: string, callback: Parameters<FastifyRateLimitStore['incr']>[1]): void {
      run(READ, this.key + key, [], callback);
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      return new RedisRateLimitStore(undefined, `${this.key}${routeOptions.method}${routeOptions.url}-`);
    }
  }
  return RedisRateLimitStore;
}
