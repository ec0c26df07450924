import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { type App, createApp } from '../../server/app.ts';
import { parseConfig } from '../../server/config.ts';
import {
  type ConsoleWatch,
  describeBrowser,
  freePort,
  launchBrowser,
  messageTexts,
  openRoom,
  POLL,
  signedInContext,
} from '../support/browser.ts';
import { signUp, trpcClient, uniqueName } from '../support/clients.ts';

/**
 * Records every text the status line shows, so a "Reconnecting…" that lasts only a moment is
 * still seen by the test.
 */
const recordStatus = `
  window.__statusLog = [];
  new MutationObserver(() => {
    const text = document.querySelector('[role="status"]')?.textContent ?? null;
    if (text !== null && window.__statusLog.at(-1) !== text) window.__statusLog.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

const statusLog = (page: Page) => page.evaluate<string[]>('window.__statusLog');

/** Messages shown, with their ids: a duplicate would show up twice here. */
const shownIds = (page: Page) =>
  page
    .getByRole('log')
    .locator('.message[data-message-id]')
    .evaluateAll((items: Array<{ getAttribute(name: string): string | null }>) =>
      items.map((item) => item.getAttribute('data-message-id')),
    );

describeBrowser('reconnecting', () => {
  let browser: Browser;
  let dir: string;
  let databasePath: string;
  let port: number;
  let baseUrl: string;
  const running = new Set<App>();

  /** The real server on a given port over the shared database file, as `npm start` builds it. */
  async function startServer(onPort: number): Promise<App> {
    const app = await createApp(
      parseConfig({
        PORT: String(onPort),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        RATE_LIMITS: 'off',
        DATABASE_PATH: databasePath,
      }),
    );
    await app.listen();
    running.add(app);
    return app;
  }

  async function stopServer(app: App): Promise<void> {
    running.delete(app);
    await app.close();
  }

  beforeAll(async () => {
    browser = await launchBrowser();
    dir = mkdtempSync(join(tmpdir(), 'atlas-chat-reconnect-'));
    databasePath = join(dir, 'chat.db');
  });

  afterEach(async () => {
    for (const app of running) await app.close();
    running.clear();
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function twoPeopleInARoom() {
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const app = await startServer(port);
    const room = uniqueName('restart').toLowerCase();
    const people = [];
    for (const name of ['ann', 'ben']) {
      const person = await signedInContext(browser, baseUrl, { username: uniqueName(name) });
      // Refused connections while the server is away are reported by the browser itself.
      // Stopping the server is the point of these tests: a request that races the shutdown is
      // answered 503 by the closing server (or refused once it is gone). The page retries those.
      person.console.allow(/WebSocket connection to .* failed/, /ERR_CONNECTION_REFUSED/, /status of 503/);
      await person.context.addInitScript(recordStatus);
      const page = await person.context.newPage();
      await openRoom(page, baseUrl, room);
      people.push({ ...person, page });
    }
    const [ann, ben] = people;
    if (!ann || !ben) throw new Error('unreachable');
    return { app, room, ann, ben };
  }

  function assertNoConsoleErrors(...watches: ConsoleWatch[]) {
    for (const watch of watches) expect(watch.errors).toEqual([]);
  }

  test('pages open across a server restart catch up on what they missed, without a reload or duplicates', async () => {
    const { app, room, ann, ben } = await twoPeopleInARoom();
    const annBox = ann.page.getByRole('textbox', { name: 'Message', exact: true });
    await annBox.fill('before the restart');
    await annBox.press('Enter');
    await expect.poll(() => messageTexts(ben.page), POLL).toEqual(['before the restart']);

    await stopServer(app);
    for (const { page } of [ann, ben]) {
      await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Reconnecting…');
    }

    // While the pages are cut off, messages are written to the same database by another server
    // process: no live event can reach the pages, so only resuming from their last seq finds these.
    const elsewhere = await startServer(0);
    const address = elsewhere.server.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const api = trpcClient(`http://127.0.0.1:${address.port}`, ben.user.token);
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await api.messages.post.mutate({ room, text });
    await stopServer(elsewhere);

    await startServer(port);
    const expected = ['before the restart', ...missed];
    for (const { page } of [ann, ben]) {
      await expect.poll(() => page.getByRole('status').textContent(), { ...POLL, timeout: 30_000 }).toBe('Live');
      await expect.poll(() => messageTexts(page), POLL).toEqual(expected);
      const ids = await shownIds(page);
      expect(new Set(ids).size).toBe(ids.length);
      expect(await statusLog(page)).toContain('Reconnecting…');
    }

    // And the room is live again, both ways.
    await ben.page.getByRole('textbox', { name: 'Message', exact: true }).fill('back again');
    await ben.page.keyboard.press('Enter');
    await expect.poll(() => messageTexts(ann.page), POLL).toEqual([...expected, 'back again']);
    await expect.poll(() => messageTexts(ben.page), POLL).toEqual([...expected, 'back again']);

    assertNoConsoleErrors(ann.console, ben.console);
    await ann.context.close();
    await ben.context.close();
  }, 90_000);

  test('a page too far behind to replay starts again from the newest messages', async () => {
    const { app, room, ann, ben } = await twoPeopleInARoom();
    await stopServer(app);
    await expect.poll(() => ann.page.getByRole('status').textContent(), POLL).toBe('Reconnecting…');

    // More than the server replays (1000): the page is told to reset and reloads the newest page.
    const elsewhere = await startServer(0);
    const address = elsewhere.server.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const writer = await signUp(`http://127.0.0.1:${address.port}`);
    const api = trpcClient(`http://127.0.0.1:${address.port}`, writer.token);
    await api.rooms.join.mutate({ room });
    const total = 1010;
    for (let index = 1; index <= total; index += 1) await api.messages.post.mutate({ room, text: `burst ${index}` });
    await stopServer(elsewhere);

    await startServer(port);
    const newest = Array.from({ length: 50 }, (_, index) => `burst ${total - 49 + index}`);
    await expect.poll(() => ann.page.getByRole('status').textContent(), { ...POLL, timeout: 30_000 }).toBe('Live');
    await expect.poll(() => messageTexts(ann.page), POLL).toEqual(newest);
    // Older ones are still there to scroll back to.
    await ann.page.getByRole('button', { name: 'Load earlier messages' }).waitFor();

    assertNoConsoleErrors(ann.console, ben.console);
    await ann.context.close();
    await ben.context.close();
  }, 120_000);
});
