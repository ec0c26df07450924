import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type App, createApp } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import { describeBrowser, launchBrowser, messageTexts, openRoom, POLL, signedInContext } from './support/browser.ts';
import { signUp, trpcClient, uniqueName, wsTrpcClient } from './support/clients.ts';
import { joinRoom } from './support/fixtures.ts';
import { follow, range, seqs } from './support/live.ts';
import { describeNginx, type RunningNginx, startNginx } from './support/nginx.ts';
import { createTestDatabase, describePostgres, type TestDatabase } from './support/postgres.ts';
import { describeRedis, TEST_REDIS_URL, testRedisPrefix } from './support/redis.ts';

/**
 * deploy/nginx.conf in front of two instances (shared mode, TRUST_PROXY=on): no sticky sessions,
 * WebSockets upgraded, and a room works the same whichever instance each client reaches.
 */
describePostgres('two instances behind nginx (deploy/nginx.conf)', () => {
  describeRedis('on one PostgreSQL and one Redis', () => {
    describeNginx('through nginx', () => {
      let database: TestDatabase;
      const apps: App[] = [];
      let nginx: RunningNginx;
      const clients: { close(): void }[] = [];

      beforeAll(async () => {
        database = await createTestDatabase();
        const prefix = testRedisPrefix('nginx');
        const upstreams: string[] = [];
        for (let index = 0; index < 2; index += 1) {
          const app = await createApp(
            parseConfig({
              PORT: '0',
              HOST: '127.0.0.1',
              LOG_LEVEL: 'silent',
              DATABASE_URL: database.url,
              REDIS_URL: TEST_REDIS_URL,
              REDIS_PREFIX: prefix,
              TRUST_PROXY: 'on',
              RATE_LIMITS: 'off',
            }),
          );
          await app.listen();
          const address = app.server.server.address();
          if (address === null || typeof address === 'string') throw new Error('no TCP port');
          upstreams.push(`127.0.0.1:${address.port}`);
          apps.push(app);
        }
        nginx = await startNginx(upstreams);
      });
      afterAll(async () => {
        for (const client of clients) client.close();
        await nginx?.stop();
        for (const app of apps) await app.close();
        await database?.drop();
      });

      it('spreads WebSockets over both instances and every subscriber gets every message once, in order', async () => {
        const room = uniqueName('nginx');
        const users = await Promise.all(
          range(1, 4).map(async () => {
            const user = await signUp(nginx.baseUrl);
            await joinRoom(nginx.baseUrl, user.token, room);
            return user;
          }),
        );
        const followers = users.map((user) => {
          const live = wsTrpcClient(nginx.baseUrl, { token: user.token });
          clients.push(live);
          return follow(live, room, '0');
        });
        for (const follower of followers) await follower.until((f) => f.presence.length > 0);
        // Round robin, no stickiness: both instances hold some of the sockets.
        const sockets = apps.map((app) => app.server.websocketServer.clients.size);
        expect(sockets.every((count) => count > 0)).toBe(true);
        // Presence is shared: everyone sees all four, wherever they are connected.
        const everyone = JSON.stringify(users.map((user) => user.username).sort());
        for (const follower of followers) await follower.until((f) => JSON.stringify(f.presence.at(-1)) === everyone);

        const total = 60;
        await Promise.all(
          range(1, total).map((n) =>
            trpcClient(nginx.baseUrl, users[n % users.length]?.token).messages.post.mutate({ room, text: `m${n}` }),
          ),
        );
        for (const follower of followers) await follower.until((f) => f.messages.length >= total);
        for (const follower of followers) {
          expect(seqs(follower)).toEqual(range(1, total));
          expect(follower.errors).toEqual([]);
        }
        console.info(`nginx: WebSockets per instance ${sockets.join(' / ')}; ${total} posts reached all 4 subscribers`);
      });

      describeBrowser('in Chromium', () => {
        let browser: Browser;
        beforeAll(async () => {
          browser = await launchBrowser();
        });
        afterAll(async () => {
          await browser?.close();
        });

        const socketCounts = () => apps.map((app) => app.server.websocketServer.clients.size);

        it('runs the main flow: sign up, join, send, and receive in a second browser on the other instance', async () => {
          const room = uniqueName('web').toLowerCase();
          const alice = await signedInContext(browser, nginx.baseUrl, { username: uniqueName('alice') });
          const bob = await signedInContext(browser, nginx.baseUrl, { username: uniqueName('bob') });
          // Only this test's two pages hold sockets from here on.
          for (const client of clients.splice(0)) client.close();
          const total = () => socketCounts().reduce((sum, count) => sum + count, 0);
          await expect.poll(total, POLL).toBe(0);
          const alicePage = await alice.context.newPage();
          await openRoom(alicePage, nginx.baseUrl, room);
          await expect.poll(total, POLL).toBe(1);
          const aliceOn = socketCounts().indexOf(1);

          // Round robin also serves the pages' other requests, so Bob's socket may land on Alice's
          // instance: reload until it is on the other one.
          const bobPage = await bob.context.newPage();
          await openRoom(bobPage, nginx.baseUrl, room);
          let bobOn = -1;
          for (let attempt = 0; attempt < 10; attempt += 1) {
            await expect.poll(total, POLL).toBe(2);
            bobOn = socketCounts()[1 - aliceOn] === 1 ? 1 - aliceOn : aliceOn;
            if (bobOn !== aliceOn) break;
            await bobPage.reload();
            await expect.poll(() => bobPage.getByRole('status').textContent(), POLL).toBe('Live');
          }
          expect(bobOn).toBe(1 - aliceOn);

          for (const page of [alicePage, bobPage]) {
            await expect
              .poll(() => page.getByRole('list', { name: 'Members' }).locator('.member--online').count(), POLL)
              .toBe(2);
          }
          const aliceBox = alicePage.getByRole('textbox', { name: 'Message', exact: true });
          await aliceBox.pressSequentially('hello across instances');
          await bobPage.getByText(`${alice.user.username} is typing…`).waitFor();
          await aliceBox.press('Enter');
          await expect.poll(() => messageTexts(bobPage), POLL).toEqual(['hello across instances']);
          await expect.poll(() => messageTexts(alicePage), POLL).toEqual(['hello across instances']);
          expect(alice.console.errors).toEqual([]);
          expect(bob.console.errors).toEqual([]);
          await alice.context.close();
          await bob.context.close();
        });
      });
    });
  });
});
