import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.ts';

describe('health and documents', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('GET /healthz answers 200 while the database answers', async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document describing every REST path', async () => {
    const response = await fetch(`${server.baseUrl}/api/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toMatch(/^3\.1/);
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/auth/change-password',
        '/auth/me',
        '/auth/sign-in',
        '/auth/sign-out',
        '/auth/sign-out-all',
        '/auth/sign-up',
        '/me/rooms',
        '/rooms',
        '/search',
        '/rooms/{room}/join',
        '/rooms/{room}/leave',
        '/rooms/{room}/messages',
        '/rooms/{room}/messages/{seq}',
        '/rooms/{room}/messages/{seq}/reactions/{emoji}',
        '/rooms/{room}/read',
        '/rooms/{room}/typing',
        '/rooms/{room}/users',
        '/stats/rooms',
        '/stats/users',
        '/stats/users/{username}',
      ].sort(),
    );
  });

  it('serves the API docs page and its assets from this server (no CDN)', async () => {
    const page = await fetch(`${server.baseUrl}/api/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[^"']*\.(js|css)/);
    const script = html.match(/src="([^"]+swagger-ui-bundle\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(new URL(script ?? '', `${server.baseUrl}/api/docs/`));
    expect(asset.status).toBe(200);
    // Read the 1.4 MB bundle to the end: an unread body keeps its connection busy, and closing the
    // server waits for it (up to Fastify's 72 s keep-alive timeout, past the 60 s hook timeout).
    await asset.arrayBuffer();
  });

  it('sends security headers', async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
