import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RestResponse, rest, signUp, uniqueName } from './support/clients.ts';
import { countStatuses, RawTrpcSocket, settleFlood } from './support/raw-ws.ts';
import { startTestServer, type TestServer } from './support/server.ts';

// The audit's attacks on sign-in, with RATE_LIMITS=on (the default). Addresses from the
// documentation ranges (RFC 5737) stand for clients behind a trusted proxy.
const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';

type Credentials = { username: string; password: string };

/** A sign-in over REST or tRPC-over-HTTP, from `ip` (an X-Forwarded-For the server may trust). */
async function signIn(
  baseUrl: string,
  credentials: Credentials,
  options: { ip?: string; via?: 'rest' | 'trpc' } = {},
): Promise<RestResponse> {
  const headers: Record<string, string> = options.ip ? { 'x-forwarded-for': options.ip } : {};
  if (options.via !== 'trpc') return rest(baseUrl, 'POST', '/auth/sign-in', { body: credentials, headers });
  const response = await fetch(`${baseUrl}/api/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(credentials),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

function retryAfter(response: RestResponse): number {
  const value = response.headers.get('retry-after');
  expect(value, `Retry-After on ${response.status} ${JSON.stringify(response.body)}`).toMatch(/^\d+$/);
  return Number(value);
}

describe('concurrent wrong passwords are counted before they are checked (race)', () => {
  // A gate wide enough to admit the whole flood: only the limiter's reservation stands between
  // these calls and 40 (or 1,000) argon2id checks. A fresh server per test, so each starts with
  // this address's full budget of 30 attempts a minute.
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ PASSWORD_CHECKS_PER_IP: '2000', PASSWORD_HASH_QUEUE: '2000' });
  });
  afterEach(() => server.close());

  it('40 parallel HTTP sign-ins (REST and tRPC): at most 10 passwords checked, the rest 429 with Retry-After', async () => {
    const victim = await signUp(server.baseUrl);
    const wrong = { username: victim.username, password: 'not the password' };
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        signIn(server.baseUrl, wrong, { via: index % 2 === 0 ? 'rest' : 'trpc' }),
      ),
    );
    const counts = countStatuses(responses);
    // Before the fix: 20 × 401, as the audit found.
    expect(counts[401], JSON.stringify(counts)).toBeLessThanOrEqual(10);
    expect(counts[401] ?? 0).toBeGreaterThan(0);
    expect((counts[401] ?? 0) + (counts[429] ?? 0), JSON.stringify(counts)).toBe(40);
    for (const response of responses) {
      if (response.status === 429) expect(retryAfter(response)).toBeGreaterThanOrEqual(1);
    }
  });

  // One socket may also hold only one place in the password gate, so this flood is refused even
  // sooner; the 40 parallel HTTP sign-ins above are what prove the limiter's reservation.
  it('1,000 auth.signIn frames on one WebSocket: at most 10 passwords checked, the rest 429', async () => {
    const victim = await signUp(server.baseUrl);
    const socket = await RawTrpcSocket.open(server.baseUrl);
    try {
      const wrong = { username: victim.username, password: 'not the password' };
      const answers = await Promise.all(
        Array.from({ length: 1000 }, () => socket.call('mutation', 'auth.signIn', wrong)),
      );
      const counts = countStatuses(answers);
      // Before the fix: all 1,000 checked (1,000 × 401).
      expect(counts[401], JSON.stringify(counts)).toBeLessThanOrEqual(10);
      expect(counts[401] ?? 0).toBeGreaterThan(0);
      expect((counts[401] ?? 0) + (counts[429] ?? 0), JSON.stringify(counts)).toBe(1000);
      expect(answers.find((answer) => answer.status === 429)?.message).toMatch(/try again in \d+ s/);
    } finally {
      socket.close();
    }
  });
});

describe('a sign-in flood from one address does not hold up anyone else', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'on' });
  });
  afterAll(() => server.close());

  it('2,000 sign-in frames from one address, then another client signs in at once', { timeout: 15_000 }, async () => {
    const owner = await signUp(server.baseUrl);
    const socket = await RawTrpcSocket.open(server.baseUrl, { 'x-forwarded-for': ATTACKER });
    try {
      const flood = Array.from({ length: 2000 }, (_, index) =>
        socket.call('mutation', 'auth.signIn', { username: `flood_${index}`, password: 'guess guess guess' }),
      );
      // Sent while the flood is still being answered. Before the fix it queued behind 2,000
      // argon2id checks (over 30 s on this machine; the audit measured 9.6 s behind 2,000 frames on
      // its own), so this 15 s bound is far above the answer's usual tens of milliseconds and far
      // below what the unbounded queue took.
      const legit = await signIn(server.baseUrl, owner, { ip: OWNER });
      expect(legit.status, JSON.stringify(legit.body)).toBe(200);

      // Checked: at most the per-address budget of 30 attempts a minute; the rest refused at once,
      // or cut off when the socket is closed for flooding past its frame budget.
      const { counts, cutOff } = await settleFlood(socket, flood);
      expect(counts[401] ?? 0, JSON.stringify(counts)).toBeLessThanOrEqual(30);
      expect((counts[401] ?? 0) + (counts[429] ?? 0) + cutOff, JSON.stringify(counts)).toBe(2000);
    } finally {
      socket.close();
    }
  });

  it('a flood on one WebSocket holds one place: the same address signs in over another connection', {
    timeout: 15_000,
  }, async () => {
    // No proxy: the flood and the legitimate sign-in share 127.0.0.1, as on one machine or behind
    // one NAT. One socket may hold one place in the password gate, so the flood cannot take this
    // address's whole share.
    const local = await startTestServer();
    try {
      const owner = await signUp(local.baseUrl);
      const socket = await RawTrpcSocket.open(local.baseUrl);
      try {
        const flood = Array.from({ length: 2000 }, (_, index) =>
          socket.call('mutation', 'auth.signIn', { username: `flood_${index}`, password: 'guess guess guess' }),
        );
        const legit = await signIn(local.baseUrl, owner);
        expect(legit.status, JSON.stringify(legit.body)).toBe(200);
        const { counts, cutOff } = await settleFlood(socket, flood);
        expect((counts[401] ?? 0) + (counts[429] ?? 0) + cutOff, JSON.stringify(counts)).toBe(2000);
        expect(counts[401] ?? 0, JSON.stringify(counts)).toBeLessThanOrEqual(30);
      } finally {
        socket.close();
      }
    } finally {
      await local.close();
    }
  });

  it('beyond the password-check queue the answer is 503 with Retry-After, and the server recovers', async () => {
    const narrow = await startTestServer({
      TRUST_PROXY: 'on',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '2',
    });
    try {
      const user = await signUp(narrow.baseUrl);
      // Each from its own address, so no per-address limit applies: only the overall bound.
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, index) => signIn(narrow.baseUrl, user, { ip: `192.0.2.${index + 1}` })),
      );
      const counts = countStatuses(responses);
      expect(counts[503], JSON.stringify(counts)).toBeGreaterThan(0);
      expect((counts[200] ?? 0) + (counts[503] ?? 0), JSON.stringify(counts)).toBe(40);
      const refused = responses.find((response) => response.status === 503);
      if (!refused) throw new Error('no 503');
      expect(retryAfter(refused)).toBeGreaterThanOrEqual(1);
      expect((refused.body as { message: string }).message).toMatch(/busy checking other passwords/);
      expect((await signIn(narrow.baseUrl, user, { ip: '192.0.2.200' })).status).toBe(200);
    } finally {
      await narrow.close();
    }
  });
});

describe('nobody can lock the owner out from elsewhere', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'on' });
  });
  afterAll(() => server.close());

  it('ten wrong passwords from address A lock A out of that username, not the owner at address B', async () => {
    const owner = await signUp(server.baseUrl);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const wrong = { username: owner.username, password: `wrong password ${attempt}` };
      const response = await signIn(server.baseUrl, wrong, { ip: ATTACKER, via: attempt % 2 ? 'trpc' : 'rest' });
      expect(response.status).toBe(401);
    }
    // The guesser is stopped, even with the right password (H1 stays fixed)...
    const guesser = await signIn(server.baseUrl, owner, { ip: ATTACKER });
    expect(guesser.status).toBe(429);
    expect(retryAfter(guesser)).toBeLessThanOrEqual(15 * 60);
    // ...and the owner, elsewhere, is not.
    expect((await signIn(server.baseUrl, owner, { ip: OWNER })).status).toBe(200);
    expect((await signIn(server.baseUrl, owner, { ip: OWNER, via: 'trpc' })).status).toBe(200);
  });

  it('guessing across usernames from one IPv6 /64 shares one budget: 30 attempts a minute', async () => {
    const statuses: number[] = [];
    // Sequential, so the per-address share of the password gate never refuses one.
    for (let index = 0; index < 40; index += 1) {
      const ip = `2001:db8:1:2::${(index + 1).toString(16)}`;
      const guess = { username: uniqueName('spray'), password: 'Summer2024!' };
      statuses.push((await signIn(server.baseUrl, guess, { ip })).status);
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(10).fill(429));
    // Another /64 has its own budget.
    const elsewhere = await signIn(
      server.baseUrl,
      { username: uniqueName('spray'), password: 'x'.repeat(8) },
      {
        ip: '2001:db8:1:3::1',
      },
    );
    expect(elsewhere.status).toBe(401);
  });
});

describe('TRUST_PROXY: a client cannot choose its address', () => {
  it.each(['on', '1', '127.0.0.0/8', 'loopback'])(
    'TRUST_PROXY=%s: an extra X-Forwarded-For hop sent by the client does not get a fresh budget',
    async (trust) => {
      const server = await startTestServer({ TRUST_PROXY: trust });
      try {
        const owner = await signUp(server.baseUrl);
        // The proxy appends the address it saw; the client may have sent anything before it.
        for (let attempt = 0; attempt < 10; attempt += 1) {
          const wrong = { username: owner.username, password: `wrong password ${attempt}` };
          expect((await signIn(server.baseUrl, wrong, { ip: ATTACKER })).status).toBe(401);
        }
        const spoofed = await signIn(server.baseUrl, owner, { ip: `${OWNER}, ${ATTACKER}` });
        expect(spoofed.status).toBe(429);
      } finally {
        await server.close();
      }
    },
  );

  it('a WebSocket gets the same client address as HTTP', async () => {
    const server = await startTestServer({ TRUST_PROXY: '1' });
    const sockets: RawTrpcSocket[] = [];
    try {
      const owner = await signUp(server.baseUrl);
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const wrong = { username: owner.username, password: `wrong password ${attempt}` };
        expect((await signIn(server.baseUrl, wrong, { ip: ATTACKER })).status).toBe(401);
      }
      const fromAttacker = await RawTrpcSocket.open(server.baseUrl, { 'x-forwarded-for': ATTACKER });
      const fromOwner = await RawTrpcSocket.open(server.baseUrl, { 'x-forwarded-for': OWNER });
      sockets.push(fromAttacker, fromOwner);
      // Before the fix a WebSocket counted as the proxy's own address (127.0.0.1).
      expect((await fromAttacker.call('mutation', 'auth.signIn', owner)).status).toBe(429);
      expect((await fromOwner.call('mutation', 'auth.signIn', owner)).status).toBe(200);
    } finally {
      for (const socket of sockets) socket.close();
      await server.close();
    }
  });
});

describe('change-password', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'on' });
  });
  afterAll(() => server.close());

  it('a wrong current password counts as a failed sign-in from that address', async () => {
    const user = await signUp(server.baseUrl);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await rest(server.baseUrl, 'POST', '/auth/change-password', {
        token: user.token,
        headers: { 'x-forwarded-for': ATTACKER },
        body: { currentPassword: `wrong password ${attempt}`, newPassword: 'a brand new passphrase' },
      });
      expect(response.status).toBe(401);
    }
    expect((await signIn(server.baseUrl, user, { ip: ATTACKER })).status).toBe(429);
    expect((await signIn(server.baseUrl, user, { ip: OWNER })).status).toBe(200);
  });
});
