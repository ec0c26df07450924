/**
 * Regenerates docs/screenshots/{join,room}-{desktop,narrow}.png and room-narrow-drawer.png: starts
 * the real server on a throw-away database, fills a few rooms with a short conversation (some of it
 * unread, one mention), and photographs both pages in Chromium at 1280×800 and 375×740.
 *
 *   npx tsx scripts/screenshots.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpLink } from '@trpc/client';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createApp } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import type { AppRouter } from '../server/routers/app-router.ts';
import { ensureBuild } from './ensure-build.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'docs/screenshots');
const desktop = { width: 1280, height: 800 };
const narrow = { width: 375, height: 740 };

function client(baseUrl: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

async function signUp(baseUrl: string, username: string) {
  const response = await fetch(`${baseUrl}/api/auth/sign-up`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery' }),
  });
  if (!response.ok) throw new Error(`sign-up ${username}: ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return { username, token, api: client(baseUrl, token) };
}

async function page(browser: Browser, baseUrl: string, viewport: typeof desktop, token?: string): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  if (token) await context.addCookies([{ name: 'atlas_session', value: token, url: baseUrl }]);
  return context.newPage();
}

async function openRoom(tab: Page, baseUrl: string, room: string) {
  await tab.goto(`${baseUrl}/rooms/${room}`);
  await tab.getByRole('status').filter({ hasText: 'Live' }).waitFor();
}

async function main() {
  ensureBuild();
  const dir = mkdtempSync(join(tmpdir(), 'atlas-chat-screens-'));
  const app = await createApp(
    parseConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      RATE_LIMITS: 'off',
      DATABASE_PATH: join(dir, 'db'),
    }),
  );
  const address = await app.listen();
  const baseUrl = address.replace('0.0.0.0', '127.0.0.1');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'],
  });
  try {
    const ada = await signUp(baseUrl, 'ada');
    const grace = await signUp(baseUrl, 'grace');
    const linus = await signUp(baseUrl, 'linus');
    for (const user of [ada, grace, linus]) await user.api.rooms.join.mutate({ room: 'general' });
    await grace.api.rooms.join.mutate({ room: 'release-planning' });
    await linus.api.rooms.join.mutate({ room: 'random' });
    // Ada is in all three: what arrives in the other two shows as unread in her sidebar.
    for (const room of ['release-planning', 'random', 'design']) await ada.api.rooms.join.mutate({ room });
    await linus.api.messages.post.mutate({ room: 'random', text: 'Anyone up for lunch?' });
    await linus.api.messages.post.mutate({ room: 'random', text: 'The new place on 5th?' });
    await grace.api.messages.post.mutate({ room: 'release-planning', text: '@ada Freeze on Thursday, okay?' });

    const conversation: Array<[typeof ada, string]> = [
      [grace, 'Morning! Is the 1.4 build green yet?'],
      [linus, 'Almost. One flaky test in the sync suite, looking at it now.'],
      [ada, 'I can take the release notes meanwhile.'],
      [ada, 'Drafting them in the wiki.'],
      [grace, 'Great, thanks. Remember the migration note:\n- back up the database first\n- then run the upgrade'],
      [linus, 'Found it: a timeout that was too tight on slow disks. Fix is up for review.'],
      [ada, 'Reviewed and approved.'],
      [grace, 'Then we tag after lunch.'],
    ];
    for (const [user, text] of conversation) await user.api.messages.post.mutate({ room: 'general', text });
    // Ada read up to her own messages: what follows sits under the "New messages" divider.
    await ada.api.rooms.markRead.mutate({ room: 'general', seq: 4 });

    mkdirSync(outDir, { recursive: true });

    const joinDesktop = await page(browser, baseUrl, desktop);
    await joinDesktop.goto(baseUrl);
    await joinDesktop.getByRole('button', { name: 'Join room' }).waitFor();
    await joinDesktop.screenshot({ path: join(outDir, 'join-desktop.png') });

    const joinNarrow = await page(browser, baseUrl, narrow, ada.token);
    await joinNarrow.goto(`${baseUrl}/?room=general`);
    await joinNarrow.getByRole('link', { name: '#general' }).waitFor();
    await joinNarrow.screenshot({ path: join(outDir, 'join-narrow.png') });

    // Grace has the room open too, so she shows as online; Linus is typing.
    const graceTab = await page(browser, baseUrl, desktop, grace.token);
    await openRoom(graceTab, baseUrl, 'general');

    for (const [viewport, name] of [
      [desktop, 'room-desktop.png'],
      [narrow, 'room-narrow.png'],
    ] as const) {
      const tab = await page(browser, baseUrl, viewport, ada.token);
      await openRoom(tab, baseUrl, 'general');
      await tab.locator('.badge').first().waitFor();
      await linus.api.rooms.typing.mutate({ room: 'general' });
      await tab.getByText('linus is typing…').waitFor();
      await tab.getByRole('textbox', { name: 'Message' }).fill('Sounds good, see you at 2');
      await tab.screenshot({ path: join(outDir, name) });
      if (viewport === narrow) {
        await tab.getByRole('button', { name: /^Rooms/ }).click();
        await tab.getByRole('dialog', { name: 'Rooms' }).waitFor();
        await tab.screenshot({ path: join(outDir, 'room-narrow-drawer.png') });
      }
    }
    console.log(`Screenshots written to ${outDir}`);
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
