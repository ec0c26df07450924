import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../server/config.ts';
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
      TRUST_PROXY: 'off',
    });
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
    });
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.RATE_LIMITS).toBe('on');
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.ALLOWED_ORIGINS).toEqual([]);
    expect(config.TRUST_PROXY).toBe('off');
  });

  it('reads valid values, ignoring unrelated variables', () => {
    const config = parseConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_PATH: ':memory:',
      RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'on',
      PATH: '/usr/bin',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATABASE_PATH: ':memory:',
      RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'on',
    });
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
