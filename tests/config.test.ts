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
      METRICS: 'on',
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
