import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PASSWORD_HASH_CONCURRENCY, parseConfig } from '../server/config.ts';
import { rest } from './support/clients.ts';
import { expectRestError, joinRoom, newUser, ok, type TestUser } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('parseConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(parseConfig({})).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATABASE_PATH: './data/atlas-chat.db',
      RATE_LIMITS: 'on',
      LOG_LEVEL: 'info',
      ALLOWED_ORIGINS: [],
      TRUST_PROXY: false,
      PASSWORD_HASH_CONCURRENCY: DEFAULT_PASSWORD_HASH_CONCURRENCY,
      PASSWORD_HASH_QUEUE: 32,
      PASSWORD_CHECKS_PER_IP: 4,
      MAX_ROOMS: 10_000,
      METRICS: 'on',
    });
    // One argon2id job per core, leaving one of libuv's 4 threads for file I/O.
    expect(DEFAULT_PASSWORD_HASH_CONCURRENCY).toBe(Math.max(1, Math.min(availableParallelism(), 3)));
  });

  it('reads MAX_ROOMS, and rejects a cap that is not a positive whole number', () => {
    expect(parseConfig({ MAX_ROOMS: '25' }).MAX_ROOMS).toBe(25);
    expect(parseConfig({ MAX_ROOMS: '' }).MAX_ROOMS).toBe(10_000);
    for (const value of ['0', '-1', '2.5', 'many']) {
      expect(configError({ MAX_ROOMS: value }).problems).toEqual([expect.stringMatching(/^MAX_ROOMS: /)]);
    }
  });

  it('reports every bad field in one error', () => {
    const error = configError({ PORT: 'abc', RATE_LIMITS: 'maybe', HOST: 'localhost' });
    expect(error.problems).toHaveLength(2);
    expect(error.problems.some((problem) => problem.startsWith('PORT'))).toBe(true);
    expect(error.problems.some((problem) => problem.startsWith('RATE_LIMITS'))).toBe(true);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('RATE_LIMITS');
  });

  it('treats empty and blank strings as unset', () => {
    const config = parseConfig({
      PORT: '',
      HOST: ' ',
      RATE_LIMITS: '',
      LOG_LEVEL: '',
      ALLOWED_ORIGINS: '',
      TRUST_PROXY: '',
      PASSWORD_HASH_CONCURRENCY: '',
      PASSWORD_HASH_QUEUE: ' ',
      PASSWORD_CHECKS_PER_IP: '',
    });
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.RATE_LIMITS).toBe('on');
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.ALLOWED_ORIGINS).toEqual([]);
    expect(config.TRUST_PROXY).toBe(false);
    expect(config.PASSWORD_HASH_QUEUE).toBe(32);
  });

  it('reads valid values, ignoring unrelated variables', () => {
    const config = parseConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_PATH: ':memory:',
      RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'on',
      PASSWORD_HASH_CONCURRENCY: '8',
      PASSWORD_HASH_QUEUE: '0',
      PASSWORD_CHECKS_PER_IP: '5',
      PATH: '/usr/bin',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATABASE_PATH: ':memory:',
      RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: { hops: 1 },
      PASSWORD_HASH_CONCURRENCY: 8,
      PASSWORD_HASH_QUEUE: 0,
      PASSWORD_CHECKS_PER_IP: 5,
    });
  });

  it.each([
    ['off', false],
    ['0', false],
    ['on', { hops: 1 }],
    ['ON', { hops: 1 }],
    ['1', { hops: 1 }],
    ['2', { hops: 2 }],
    ['10.0.0.1', { addresses: ['10.0.0.1'] }],
    [' 10.0.0.0/8 , 192.168.1.1/24,fd00::/8 ', { addresses: ['10.0.0.0/8', '192.168.1.1/24', 'fd00::/8'] }],
    ['loopback,uniquelocal', { addresses: ['loopback', 'uniquelocal'] }],
    ['10.0.0.0/255.0.0.0', { addresses: ['10.0.0.0/255.0.0.0'] }],
  ])('reads TRUST_PROXY=%j', (value, expected) => {
    expect(parseConfig({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it.each(['yes', '11', '-1', '10.0.0.0/33', '10.0.0.0/8, not-an-ip', 'fd00::/129', '1.5', 'http://proxy'])(
    'rejects TRUST_PROXY=%j with a message naming the field and the bad entry',
    (value) => {
      const problems = configError({ TRUST_PROXY: value }).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: /);
    },
  );

  it.each([
    ['PASSWORD_HASH_CONCURRENCY', '0'],
    ['PASSWORD_HASH_CONCURRENCY', 'many'],
    ['PASSWORD_HASH_QUEUE', '-1'],
    ['PASSWORD_HASH_QUEUE', '2.5'],
    ['PASSWORD_CHECKS_PER_IP', '0'],
  ])('rejects %s=%j', (name, value) => {
    expect(configError({ [name]: value }).problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
  });

  it('reads METRICS and METRICS_TOKEN, refusing a bad switch and a short token', () => {
    expect(parseConfig({ METRICS: 'off', METRICS_TOKEN: ' 0123456789abcdef ' })).toMatchObject({
      METRICS: 'off',
      METRICS_TOKEN: '0123456789abcdef',
    });
    expect(parseConfig({ METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    const error = configError({ METRICS: 'yes', METRICS_TOKEN: 'short' });
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['METRICS', 'METRICS_TOKEN']);
    expect(error.message).toContain('at least 16 characters');
  });

  it.each(['-1', '65536', '3.5', 'abc'])('rejects PORT=%s', (port) => {
    expect(configError({ PORT: port }).problems).toEqual([expect.stringMatching(/^PORT: /)]);
  });

  it('rejects an unknown LOG_LEVEL and TRUST_PROXY value', () => {
    const error = configError({ LOG_LEVEL: 'loud', TRUST_PROXY: 'yes' });
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'TRUST_PROXY']);
  });

  it('parses ALLOWED_ORIGINS into a list, trimming spaces and dropping empty entries', () => {
    const config = parseConfig({ ALLOWED_ORIGINS: ' https://chat.example.com, http://localhost:5173 ,,' });
    expect(config.ALLOWED_ORIGINS).toEqual(['https://chat.example.com', 'http://localhost:5173']);
  });

  it.each(['not-an-origin', 'https://chat.example.com/path', 'chat.example.com'])(
    'rejects %j in ALLOWED_ORIGINS, naming the field',
    (origin) => {
      const error = configError({ ALLOWED_ORIGINS: `https://fine.example, ${origin}` });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^ALLOWED_ORIGINS: /);
      expect(error.problems[0]).toContain(origin);
    },
  );
});

describe('database configuration', () => {
  it('selects SQLite at DATABASE_PATH (default ./data/atlas-chat.db) when DATABASE_URL is unset', () => {
    expect(parseConfig({})).toMatchObject({ DATABASE_PATH: './data/atlas-chat.db', DATABASE_POOL_SIZE: 10 });
    expect(parseConfig({}).DATABASE_URL).toBeUndefined();
    expect(parseConfig({ DATABASE_PATH: ':memory:', DATABASE_URL: ' ' }).DATABASE_PATH).toBe(':memory:');
  });

  it('selects PostgreSQL with DATABASE_URL, with a configurable pool', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgresql://atlas:secret@db.internal:5433/atlas',
      DATABASE_POOL_SIZE: '25',
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgresql://atlas:secret@db.internal:5433/atlas',
      DATABASE_POOL_SIZE: 25,
    });
  });

  it('refuses DATABASE_URL and DATABASE_PATH together, naming both, alongside other problems', () => {
    const error = configError({ DATABASE_URL: 'postgres://db/atlas', DATABASE_PATH: './chat.db', PORT: 'abc' });
    expect(error.problems).toHaveLength(2);
    const both = error.problems.find((problem) => problem.startsWith('DATABASE_URL'));
    expect(both).toContain('DATABASE_PATH');
    expect(both).toContain('set only one');
  });

  it.each(['mysql://db/atlas', 'postgres://', 'postgres://db', 'not a url'])(
    'rejects DATABASE_URL=%j without echoing it',
    (url) => {
      const error = configError({ DATABASE_URL: url });
      expect(error.problems).toEqual([
        expect.stringMatching(/^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/),
      ]);
    },
  );

  it('turns on shared mode with REDIS_URL on PostgreSQL, with a configurable key prefix', () => {
    expect(parseConfig({}).REDIS_URL).toBeUndefined();
    expect(parseConfig({}).REDIS_PREFIX).toBe('atlas:');
    const blank = parseConfig({ DATABASE_URL: 'postgres://db/atlas', REDIS_URL: ' ', REDIS_PREFIX: '' });
    expect(blank.REDIS_URL).toBeUndefined();
    expect(blank.REDIS_PREFIX).toBe('atlas:');
    expect(
      parseConfig({
        DATABASE_URL: 'postgres://db/atlas',
        REDIS_URL: 'redis://:pw@cache:6380/2',
        REDIS_PREFIX: 'chat-1:',
      }),
    ).toMatchObject({ REDIS_URL: 'redis://:pw@cache:6380/2', REDIS_PREFIX: 'chat-1:' });
  });

  it('refuses REDIS_URL with SQLite, naming both, alongside other problems', () => {
    for (const env of [{ REDIS_URL: 'redis://cache:6379' }, { REDIS_URL: 'redis://cache', DATABASE_PATH: './c.db' }]) {
      const error = configError({ ...env, PORT: 'abc' });
      expect(error.problems).toHaveLength(2);
      expect(error.problems.some((problem) => problem.startsWith('PORT'))).toBe(true);
      const redis = error.problems.find((problem) => problem.startsWith('REDIS_URL'));
      expect(redis).toContain('DATABASE_URL');
      expect(redis).toContain('SQLite');
    }
  });

  it('rejects a bad REDIS_URL and REDIS_PREFIX without echoing the URL', () => {
    const error = configError({
      DATABASE_URL: 'postgres://db/atlas',
      REDIS_URL: 'http://user:hunter2@cache',
      REDIS_PREFIX: 'has space',
    });
    expect(error.problems).toEqual([
      expect.stringMatching(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/),
      expect.stringMatching(/^REDIS_PREFIX: /),
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it('never echoes a password from a bad DATABASE_URL', () => {
    expect(configError({ DATABASE_URL: 'mysql://atlas:hunter2@db/atlas' }).message).not.toContain('hunter2');
  });

  it.each(['0', '1001', '2.5', 'many'])('rejects DATABASE_POOL_SIZE=%s', (size) => {
    expect(configError({ DATABASE_POOL_SIZE: size }).problems).toEqual([
      expect.stringMatching(/^DATABASE_POOL_SIZE: /),
    ]);
  });
});

describe('ALLOWED_ORIGINS on a running server', () => {
  const TRUSTED = 'https://trusted.example';
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off', ALLOWED_ORIGINS: TRUSTED });
    user = await newUser(server.baseUrl);
    await joinRoom(server.baseUrl, user.token, 'origins');
  });
  afterAll(() => server.close());

  it('lets a listed origin send cookie-authenticated POSTs, still refusing others', async () => {
    const cookie = `atlas_session=${user.token}`;
    const trusted = await rest(server.baseUrl, 'POST', '/rooms/origins/messages', {
      headers: { cookie, origin: TRUSTED },
      body: { text: 'from the trusted origin' },
    });
    expect(ok(trusted)).toMatchObject({ message: { text: 'from the trusted origin', author: user.username } });
    const evil = await rest(server.baseUrl, 'POST', '/rooms/origins/messages', {
      headers: { cookie, origin: 'https://evil.example' },
      body: { text: 'forged' },
    });
    expectRestError(evil, 403);
  });
});
